/**
 * SASL against the real servers of `./run servers up`, with default settings:
 * the strongest mechanism each server takes over STARTTLS and direct TLS on
 * TLS 1.3 and TLS 1.2 (the channel binding chosen from what the server
 * advertises), ANONYMOUS, and EXTERNAL with a client certificate, each with a
 * message exchanged.
 *
 * Measured (see packages/protocol/src/sasl/README.md): neither Prosody 0.12
 * nor ejabberd 23.01 lists its channel binding types (XEP-0440). On TLS 1.2
 * both take `tls-unique`, so the client binds (-PLUS). On TLS 1.3 Prosody
 * offers no -PLUS, and ejabberd offers -PLUS but verifies only `tls-unique`,
 * which RFC 9266 rules out there: the client logs in with the strongest
 * non-PLUS mechanism and the `y` flag (both accept it). Prosody has no
 * SCRAM-SHA-512. Over BOSH nothing binds (the HTTPS connections change under
 * the session). EXTERNAL over BOSH works on Prosody (it asks for client
 * certificates on HTTPS); ejabberd's HTTP listener never asks for one.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Effect, Fiber, Stream } from "effect"
import { boshConfig, certificateLogin, config, type ServerName, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()
const SLOW = 30_000

/** What each server offers for a password, besides PLAIN (Prosody keeps no SHA-512). */
const scram: Record<ServerName, ReadonlyArray<string>> = {
  prosody: ["SCRAM-SHA-1", "SCRAM-SHA-256"],
  ejabberd: ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"]
}

const strongest: Record<ServerName, Record<"TLSv1.3" | "TLSv1.2", string>> = {
  prosody: { "TLSv1.3": "SCRAM-SHA-256", "TLSv1.2": "SCRAM-SHA-256-PLUS" },
  ejabberd: { "TLSv1.3": "SCRAM-SHA-512", "TLSv1.2": "SCRAM-SHA-512-PLUS" }
}

const message = (to: Jid.Jid, id: string, body: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: Jid.format(to), id, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

/** The first message with this id that `client` receives. */
const receive = (client: XmppClient.XmppClient["Service"], id: string) =>
  client.stanzas.pipe(
    Stream.filter((stanza) => stanza.name === "message" && Element.attribute(stanza, "id") === id),
    Stream.take(1),
    Stream.runCollect,
    Effect.map(([stanza]) => stanza)
  )

const bodyOf = (stanza: Element.Element | undefined) => {
  const body = stanza === undefined ? undefined : Element.child(stanza, "body", Namespaces.JABBER_CLIENT)
  return body === undefined ? undefined : Element.text(body)
}

/** `from` sends `to` a message, `to` answers it: both get exactly what the other sent, from the bound JIDs. */
const exchange = (
  from: XmppClient.XmppClient["Service"],
  to: XmppClient.XmppClient["Service"],
  label: string
) =>
  Effect.gen(function*() {
    const id = `${label}-${Date.now().toString(36)}`
    const receiving = yield* Effect.forkChild(receive(to, id))
    yield* from.send(message(to.jid, id, `hello from ${label}`))
    const received = yield* Fiber.join(receiving)
    assert.strictEqual(bodyOf(received), `hello from ${label}`)
    assert.strictEqual(received && Element.attribute(received, "from"), Jid.format(from.jid))
    const replying = yield* Effect.forkChild(receive(from, `${id}-reply`))
    yield* to.send(message(from.jid, `${id}-reply`, "hello back"))
    const reply = yield* Fiber.join(replying)
    assert.strictEqual(bodyOf(reply), "hello back")
  })

describe.each(["prosody", "ejabberd"] as const)("SASL against %s", (server) => {
  it.live("default settings log in with the strongest mechanism that works: STARTTLS and direct TLS, TLS 1.3 and 1.2", () =>
    Effect.gen(function*() {
      for (const directTls of [false, true]) {
        for (const tls of ["TLSv1.3", "TLSv1.2"] as const) {
          const client = yield* XmppClient.connect(
            config(s, server, "alice", { directTls, ...(tls === "TLSv1.2" ? { maxTlsVersion: tls } : {}) })
          )
          assert.strictEqual(client.mechanism, strongest[server][tls], `${directTls ? "direct TLS" : "STARTTLS"} ${tls}`)
          yield* client.close
        }
      }
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("each mechanism it offers logs in when it is the only one allowed (-PLUS on TLS 1.2)", () =>
    Effect.gen(function*() {
      for (const mechanism of [...scram[server], ...scram[server].map((name) => `${name}-PLUS`), "PLAIN"]) {
        const plus = mechanism.endsWith("-PLUS")
        const client = yield* XmppClient.connect(
          config(s, server, "alice", { mechanisms: [mechanism], ...(plus ? { maxTlsVersion: "TLSv1.2" } : {}) })
        )
        assert.strictEqual(client.mechanism, mechanism)
        yield* client.close
      }
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("asked for -PLUS only on TLS 1.3, the client refuses before sending anything and says why", () =>
    Effect.gen(function*() {
      const error = yield* XmppClient.connect(config(s, server, "alice", { mechanisms: ["SCRAM-SHA-256-PLUS"] })).pipe(
        Effect.flip,
        Effect.scoped
      )
      assert.strictEqual(error.reason, "NegotiationFailed")
      assert.strictEqual(error.condition, "no-acceptable-mechanism")
      // ejabberd offers it without listing binding types; Prosody does not offer it on TLS 1.3.
      if (server === "ejabberd") assert.match(error.message, /SCRAM-SHA-256-PLUS needs channel binding, but .*XEP-0440/)
      else assert.notInclude(error.message, "SCRAM-SHA-256-PLUS")
    }).pipe(Effect.provide(ports)))

  it.live("ANONYMOUS: a domain without accounts, a JID the server made up, and messages with an account both ways", () =>
    Effect.gen(function*() {
      const anonymous = yield* XmppClient.connect(
        config(s, server, "alice", { jid: s.anonymousDomain, credentials: { _tag: "Anonymous" } })
      )
      assert.strictEqual(anonymous.mechanism, "ANONYMOUS")
      assert.strictEqual(anonymous.jid.domain, s.anonymousDomain)
      assert.isString(anonymous.jid.local)
      assert.isString(anonymous.jid.resource)
      const bob = yield* XmppClient.connect(config(s, server, "bob", { resource: "meets-anonymous" }))
      yield* exchange(anonymous, bob, `anonymous-${server}`)
      yield* anonymous.close
      yield* bob.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("EXTERNAL with a client certificate over STARTTLS and direct TLS, and messages with an account", () =>
    Effect.gen(function*() {
      const { account, credentials } = certificateLogin(s, server)
      const bob = yield* XmppClient.connect(config(s, server, "bob", { resource: "meets-certificate" }))
      for (const directTls of [false, true]) {
        const client = yield* XmppClient.connect(config(s, server, "alice", { jid: account, credentials, directTls }))
        assert.strictEqual(client.mechanism, "EXTERNAL")
        assert.strictEqual(Jid.format(Jid.bare(client.jid)), account)
        yield* exchange(client, bob, `external-${server}-${directTls ? "direct" : "starttls"}`)
        yield* client.close
      }
      // The domain alone: the server takes the account from the certificate.
      const byDomain = yield* XmppClient.connect(config(s, server, "alice", { jid: s[server].certificateDomain, credentials }))
      assert.strictEqual(Jid.format(Jid.bare(byDomain.jid)), account)
      yield* byDomain.close
      yield* bob.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("EXTERNAL with the certificate of another account is refused by the server", () =>
    Effect.gen(function*() {
      const { account } = certificateLogin(s, server)
      const other = certificateLogin(s, server === "prosody" ? "ejabberd" : "prosody")
      const error = yield* XmppClient.connect(config(s, server, "alice", { jid: account, credentials: other.credentials })).pipe(
        Effect.flip,
        Effect.scoped
      )
      assert.strictEqual(error.reason, "AuthenticationFailed")
      assert.strictEqual(error.condition, "not-authorized")
    }).pipe(Effect.provide(ports)))
})

describe.each(["prosody", "ejabberd"] as const)("SASL over BOSH (https) against %s", (server) => {
  it.live("default settings log in with the strongest mechanism without channel binding", () =>
    Effect.gen(function*() {
      const client = yield* XmppClient.connect(boshConfig(s, server, "alice", "https"))
      assert.strictEqual(client.mechanism, strongest[server]["TLSv1.3"])
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("each mechanism it offers for a password logs in when it is the only one allowed", () =>
    Effect.gen(function*() {
      for (const mechanism of [...scram[server], "PLAIN"]) {
        const client = yield* XmppClient.connect(boshConfig(s, server, "alice", "https", { mechanisms: [mechanism] }))
        assert.strictEqual(client.mechanism, mechanism)
        yield* client.close
      }
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("ANONYMOUS logs in and exchanges messages with an account over TCP", () =>
    Effect.gen(function*() {
      const anonymous = yield* XmppClient.connect(
        boshConfig(s, server, "alice", "https", { jid: s.anonymousDomain, credentials: { _tag: "Anonymous" } })
      )
      assert.strictEqual(anonymous.mechanism, "ANONYMOUS")
      assert.strictEqual(anonymous.jid.domain, s.anonymousDomain)
      const bob = yield* XmppClient.connect(config(s, server, "bob", { resource: "meets-bosh-anonymous" }))
      yield* exchange(anonymous, bob, `bosh-anonymous-${server}`)
      yield* anonymous.close
      yield* bob.close
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live(
    server === "prosody"
      ? "EXTERNAL: the client certificate on every HTTPS connection logs in, and messages go both ways"
      : "EXTERNAL is not offered over BOSH (ejabberd's HTTP listener asks for no certificate): a typed refusal",
    () =>
      Effect.gen(function*() {
        const { account, credentials } = certificateLogin(s, server)
        const login = XmppClient.connect(boshConfig(s, server, "alice", "https", { jid: account, credentials }))
        if (server === "ejabberd") {
          const error = yield* Effect.flip(login)
          assert.strictEqual(error.reason, "NegotiationFailed")
          assert.strictEqual(error.condition, "no-acceptable-mechanism")
          assert.match(error.message, /the server does not offer EXTERNAL here/)
          return
        }
        const client = yield* login
        assert.strictEqual(client.mechanism, "EXTERNAL")
        assert.strictEqual(Jid.format(Jid.bare(client.jid)), account)
        const bob = yield* XmppClient.connect(config(s, server, "bob", { resource: "meets-bosh-certificate" }))
        yield* exchange(client, bob, `bosh-external-${server}`)
        yield* client.close
        yield* bob.close
      }).pipe(Effect.scoped, Effect.provide(ports)),
    SLOW
  )
})
