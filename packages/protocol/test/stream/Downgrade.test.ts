/**
 * Downgrade protection in negotiation: a server whose offer lost its -PLUS
 * mechanisms or its XEP-0440 binding types on the way (as an attacker
 * between the client and the server would strip them) gets a `y` login, and
 * when the server then says it does bind, the login ends in a typed
 * `channel-binding-downgrade` error instead of succeeding unbound.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Element, Negotiation } from "@xmpp-core/protocol"
import {
  b64,
  channelBindingTypes,
  drive,
  el,
  features,
  mechanisms,
  payloadOf,
  sasl,
  saslFailure,
  serverHeader,
  summarize,
  tls12,
  tls13
} from "./NegotiationFixtures.js"

const tcp: Negotiation.Config = {
  transport: "tcp",
  domain: "localhost",
  credentials: { _tag: "Password", username: "user", password: "pencil" },
  clientNonce: "fyko+d2lbbFgONRv9qkxdawL"
}
const serverFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"

/** The offer the client saw, what it sent first, and how the exchange ended. */
const login = (
  tls: Negotiation.Config["tls"],
  offer: ReadonlyArray<Element.Element>,
  answers: ReadonlyArray<Element.Element>
) => {
  const { actions, state } = drive({ ...tcp, tls }, [serverHeader(), el(features(...offer)), ...answers.map(el)])
  return { auth: payloadOf(actions[1]), summary: summarize(actions), state }
}

const errorOf = (state: Negotiation.State) => {
  if (state._tag !== "Failed") throw new Error(`expected a failure, got ${state._tag}`)
  return state.error
}

describe("downgrade protection", () => {
  it("-PLUS stripped on TLS 1.2: the client says y, and the server's bare malformed-request is a typed downgrade", () => {
    const stripped = login(tls12(), [mechanisms("SCRAM-SHA-256", "SCRAM-SHA-1")], [saslFailure("malformed-request")])
    assert.match(stripped.auth, /^y,,n=user,/)
    const error = errorOf(stripped.state)
    assert.strictEqual(error._tag, "SaslMechanismError")
    assert.strictEqual(error.reason, "channel-binding-downgrade")
    assert.match(error.message, /possible downgrade/)
    assert.match(error.message, /setting channelBinding/)
    assert.strictEqual(stripped.summary.at(-1), "Failed SaslMechanismError channel-binding-downgrade")
  })

  it("the binding list stripped on TLS 1.3: y, then the server-final e=server-does-support-channel-binding is a typed downgrade", () => {
    const stripped = login(
      tls13(),
      [mechanisms("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")],
      [sasl("challenge", b64(serverFirst)), sasl("challenge", b64("e=server-does-support-channel-binding"))]
    )
    assert.match(stripped.auth, /^y,,n=user,/)
    const error = errorOf(stripped.state)
    assert.strictEqual(error.reason, "channel-binding-downgrade")
    if (error._tag === "SaslMechanismError") assert.strictEqual(error.serverError, "e=server-does-support-channel-binding")
    // The client aborts the exchange it cannot finish.
    assert.deepStrictEqual(stripped.summary.slice(-2), ["Send abort", "Failed SaslMechanismError channel-binding-downgrade"])
  })

  it("a failure that names channel binding (ejabberd's wording) after y is a downgrade too", () => {
    const stripped = login(
      tls12(),
      [mechanisms("SCRAM-SHA-512")],
      [saslFailure("not-authorized", "Invalid channel binding")]
    )
    assert.strictEqual(errorOf(stripped.state).reason, "channel-binding-downgrade")
  })

  it("the full offer binds (p=), and the same refusals are then plain SASL failures", () => {
    const full = login(
      tls13(),
      [mechanisms("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"), channelBindingTypes("tls-exporter")],
      [saslFailure("malformed-request")]
    )
    assert.match(full.auth, /^p=tls-exporter,,/)
    const error = errorOf(full.state)
    assert.strictEqual(error._tag, "SaslFailure")
    assert.strictEqual(error.reason, "malformed-request")
  })

  it("after y, a wrong password or an unknown user stays what it is", () => {
    const wrongPassword = login(
      tls12(),
      [mechanisms("SCRAM-SHA-256")],
      [sasl("challenge", b64(serverFirst)), saslFailure("not-authorized")]
    )
    assert.match(wrongPassword.auth, /^y,,/)
    assert.strictEqual(errorOf(wrongPassword.state)._tag, "SaslFailure")
    assert.strictEqual(errorOf(wrongPassword.state).reason, "not-authorized")
    const unknownUser = login(tls12(), [mechanisms("SCRAM-SHA-256")], [saslFailure("not-authorized", "Invalid username or password")])
    assert.strictEqual(errorOf(unknownUser.state).reason, "not-authorized")
  })

  it("with n (binding turned off) the same answers are never called a downgrade", () => {
    const { state } = drive({ ...tcp, tls: tls12(), channelBinding: false }, [
      serverHeader(),
      el(features(mechanisms("SCRAM-SHA-256"))),
      el(saslFailure("malformed-request"))
    ])
    assert.strictEqual(errorOf(state)._tag, "SaslFailure")
  })
})
