/**
 * Promises of negotiation that a broken implementation could quietly drop:
 * offered STARTTLS is always taken, the JID the server binds is the one
 * reported, and a refused mechanism names the setting that would allow it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Element, Jid, Namespaces, Negotiation } from "@xmpp-core/protocol"
import {
  bindFeature,
  bindResult,
  drive,
  el,
  features,
  mechanisms,
  sasl,
  serverHeader,
  starttls,
  summarize,
  tls13
} from "./NegotiationFixtures.js"

const tcp: Negotiation.Config = {
  transport: "tcp",
  domain: "localhost",
  credentials: { _tag: "Password", username: "user", password: "pencil" },
  clientNonce: "fyko+d2lbbFgONRv9qkxdawL"
}

const failureOf = (state: Negotiation.State) => {
  if (state._tag !== "Failed" || state.error._tag !== "NegotiationError") throw new Error(`expected a NegotiationError, got ${state._tag}`)
  return state.error
}

describe("STARTTLS is taken whenever offered", () => {
  it("even when plaintext is allowed, and even when PLAIN without TLS is allowed too", () => {
    for (const allow of [{ allowPlaintext: true }, { allowPlaintext: true, allowPlainWithoutTls: true }]) {
      const { actions } = drive({ ...tcp, ...allow }, [
        serverHeader(),
        el(features(starttls(), mechanisms("PLAIN", "SCRAM-SHA-1"))),
        el(Element.make("proceed", { namespace: Namespaces.TLS })),
        Negotiation.tlsEstablished(tls13())
      ])
      assert.deepStrictEqual(summarize(actions), ["SendStreamHeader", "Send starttls", "StartTls", "RestartStream", "SendStreamHeader"])
    }
  })
})

describe("the bound JID", () => {
  it("is the one the server binds, not the one asked for", () => {
    const { actions, state } = drive({ ...tcp, tls: tls13(), resource: "asked" }, [
      serverHeader(),
      el(features(mechanisms("PLAIN"))),
      el(sasl("success")),
      serverHeader(),
      el(features(bindFeature())),
      el(bindResult("User@localhost/assigned-by-server"))
    ])
    const bound = actions.at(-1)
    assert.strictEqual(bound?._tag, "Bound")
    if (bound?._tag === "Bound") assert.strictEqual(Jid.format(bound.jid), "user@localhost/assigned-by-server")
    assert.strictEqual(state._tag === "Bound" ? Jid.format(state.jid) : state._tag, "user@localhost/assigned-by-server")
  })

  it("for ANONYMOUS, a JID the server made up on a domain without accounts", () => {
    const { actions } = drive({ ...tcp, domain: "anon.localhost", credentials: { _tag: "Anonymous" }, tls: tls13() }, [
      serverHeader({ from: "anon.localhost" }),
      el(features(mechanisms("ANONYMOUS"))),
      el(sasl("success")),
      serverHeader({ from: "anon.localhost" }),
      el(features(bindFeature())),
      el(bindResult("c3f1a9@anon.localhost/r1"))
    ])
    assert.deepStrictEqual(summarize(actions), [
      "SendStreamHeader",
      "Send auth ANONYMOUS",
      "RestartStream",
      "SendStreamHeader",
      "Send iq",
      "Bound c3f1a9@anon.localhost/r1"
    ])
    // RFC 6120 §6.4.2: the empty initial response is "=".
    const auth = actions[1]
    assert.strictEqual(auth?._tag === "Send" ? Element.text(auth.element) : undefined, "=")
    // No account to name in the header's from.
    const headers = actions.flatMap((a) => (a._tag === "SendStreamHeader" ? [a.header] : []))
    assert.isTrue(headers.every((header) => Element.attribute(header, "from") === undefined))
  })
})

describe("a refused mechanism names the setting that would allow it", () => {
  const refused = (config: Partial<Negotiation.Config>, offered: ReadonlyArray<string>) =>
    failureOf(drive({ ...tcp, ...config }, [serverHeader(), el(features(mechanisms(...offered)))]).state)

  it("PLAIN on an unencrypted stream: allowPlainWithoutTls", () => {
    const error = refused({ allowPlaintext: true }, ["PLAIN"])
    assert.strictEqual(error.reason, "no-acceptable-mechanism")
    assert.match(error.message, /PLAIN would send the password on an unencrypted stream \(setting allowPlainWithoutTls\)/)
    assert.deepStrictEqual(error.settings, ["allowPlainWithoutTls"])
  })

  it("a mechanism left out of the user's list: mechanisms", () => {
    const error = refused({ tls: tls13(), mechanisms: ["SCRAM-SHA-512"] }, ["SCRAM-SHA-1", "PLAIN"])
    assert.match(error.message, /SCRAM-SHA-1 and PLAIN each is not in the allowed list \(setting mechanisms\)/)
    assert.deepStrictEqual(error.settings, ["mechanisms"])
  })

  it("EXTERNAL without a certificate, ANONYMOUS with a password, -PLUS with binding off", () => {
    const external = refused({ tls: tls13() }, ["EXTERNAL"])
    assert.match(external.message, /EXTERNAL needs a client certificate \(setting credentials\.Certificate\)/)
    const anonymous = refused({ tls: tls13() }, ["ANONYMOUS"])
    assert.deepStrictEqual(anonymous.settings, ["credentials.Anonymous"])
    const notOffered = refused({ tls: tls13(), credentials: { _tag: "Certificate" } }, ["SCRAM-SHA-1", "PLAIN"])
    assert.match(notOffered.message, /: the server does not offer EXTERNAL here; SCRAM-SHA-1 and PLAIN each needs a password/)
    const plus = refused({ tls: tls13(), channelBinding: false }, ["SCRAM-SHA-256-PLUS"])
    assert.match(plus.message, /SCRAM-SHA-256-PLUS needs channel binding, but channel binding is turned off/)
    assert.deepStrictEqual(plus.settings, ["channelBinding"])
  })

  it("no STARTTLS and plaintext not allowed: allowPlaintext", () => {
    const error = refused({}, ["SCRAM-SHA-1"])
    assert.strictEqual(error.reason, "starttls-not-offered")
    assert.deepStrictEqual(error.settings, ["allowPlaintext"])
  })
})
