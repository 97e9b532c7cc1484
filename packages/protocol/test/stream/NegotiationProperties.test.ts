/**
 * Properties of the negotiation machine against a random server: whatever
 * the server sends, credentials wait for TLS, PLAIN stays off plaintext, a
 * wrong server signature stops the login, and everything ends in Bound or a
 * typed error, never an exception or a hang.
 */
import { assert, describe, it } from "@effect/vitest"
import { Element, Namespaces, Negotiation, NegotiationError, SaslMechanismError, type TransportKind, XmlStreamEvent } from "@xmpp-core/protocol"
import * as fc from "fast-check"
import {
  b64,
  bindFeature,
  bindResult,
  channelBindingTypes,
  el,
  features,
  iqError,
  iqResult,
  mechanisms,
  sasl,
  saslFailure,
  serverHeader,
  sessionFeature,
  starttls,
  streamError,
  summarize,
  tls13
} from "./NegotiationFixtures.js"

const mechanismNames = [
  "SCRAM-SHA-1",
  "SCRAM-SHA-1-PLUS",
  "SCRAM-SHA-256",
  "SCRAM-SHA-256-PLUS",
  "SCRAM-SHA-512",
  "SCRAM-SHA-512-PLUS",
  "PLAIN",
  "ANONYMOUS",
  "EXTERNAL",
  "DIGEST-MD5",
  ""
]

const arbFeatures = fc
  .record({
    tls: fc.constantFrom("none", "optional", "required"),
    mechs: fc.option(fc.subarray(mechanismNames), { nil: undefined }),
    bind: fc.boolean(),
    session: fc.constantFrom("none", "optional", "required"),
    cb: fc.option(fc.subarray(["tls-unique", "tls-exporter", "tls-server-end-point", "bogus"]), { nil: undefined })
  })
  .map(({ bind, cb, mechs, session, tls }) =>
    features(
      tls === "none" ? undefined : starttls(tls === "required"),
      mechs === undefined ? undefined : mechanisms(...mechs),
      cb === undefined ? undefined : channelBindingTypes(...cb),
      bind ? bindFeature() : undefined,
      session === "none" ? undefined : sessionFeature(session === "optional")
    )
  )

const printable = fc.string({ unit: fc.constantFrom(..."abcXYZ019+/=,;:!rsivpe".split("")), maxLength: 40 })

const arbServerFirst = fc
  .record({
    suffix: printable,
    salt: fc.oneof(fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b).toString("base64")), printable),
    iterations: fc.oneof(fc.integer({ min: 0, max: 20000 }).map(String), printable),
    nonceOk: fc.boolean(),
    extra: fc.option(printable, { nil: undefined })
  })
  .map(({ extra, iterations, nonceOk, salt, suffix }) =>
    `r=${nonceOk ? "clientnonce" : ""}${suffix},s=${salt},i=${iterations}${extra === undefined ? "" : `,${extra}`}`
  )

const arbName = fc.constantFrom("proceed", "failure", "challenge", "success", "iq", "message", "features", "error", "x")
const arbNamespace = fc.constantFrom(
  Namespaces.TLS,
  Namespaces.SASL,
  Namespaces.STREAMS,
  Namespaces.JABBER_CLIENT,
  Namespaces.BIND,
  "urn:other",
  ""
)
const arbRandomElement = fc
  .record({ name: arbName, namespace: arbNamespace, text: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }) })
  .map(({ name, namespace, text }) => Element.make(name, { namespace, children: [text] }))

const arbServerEvent: fc.Arbitrary<Negotiation.Event> = fc.oneof(
  fc.constant(serverHeader()),
  fc.record({ version: fc.constantFrom("1.0", "0.9", undefined), id: fc.constantFrom("x", undefined) }).map((a) =>
    serverHeader(a)
  ),
  arbFeatures.map(el),
  fc.constant(el(Element.make("proceed", { namespace: Namespaces.TLS }))),
  fc.constant(el(Element.make("failure", { namespace: Namespaces.TLS }))),
  arbServerFirst.map((m) => el(sasl("challenge", b64(m)))),
  fc.string({ maxLength: 30 }).map((m) => el(sasl("challenge", m))),
  fc.option(fc.string({ maxLength: 30 }).map(b64), { nil: undefined }).map((m) => el(sasl("success", m))),
  fc.constantFrom("not-authorized", "aborted", "bogus").map((c) => el(saslFailure(c, "t"))),
  fc.constantFrom("host-unknown", "see-other-host", "policy-violation").map((c) => el(streamError(c))),
  fc.constantFrom("bind_1", "session_1", "other").map((id) => el(iqResult(id))),
  fc.constantFrom("bind_1", "session_1").map((id) => el(iqError(id, "conflict"))),
  fc.constant(el(bindResult("user@localhost/r"))),
  arbRandomElement.map(el),
  fc.constant(XmlStreamEvent.streamClose),
  fc.constant(Negotiation.tick)
)

interface Trace {
  readonly actions: ReadonlyArray<Negotiation.Action>
  /** For each action, whether TLS was up when it was emitted. */
  readonly tlsUpAt: ReadonlyArray<boolean>
  readonly state: Negotiation.State
}

/**
 * One move of the simulated server: usually the answer a real server would
 * give in the machine's current state (with random features), sometimes any
 * random event. Pure random input rarely gets past the first features; this
 * mix reaches SASL, restart and bind while still probing every state.
 */
interface Move {
  readonly plausible: boolean
  readonly features: Element.Element
  readonly random: Negotiation.Event
}

const arbMove: fc.Arbitrary<Move> = fc.record({
  plausible: fc.boolean().chain((b) => b ? fc.constant(true) : fc.boolean()),
  features: arbFeatures,
  random: arbServerEvent
})

const SERVER_SIGNATURE = new Uint8Array(20).fill(1)

const plausibleAnswer = (state: Negotiation.State, move: Move, transport: TransportKind): Negotiation.Event => {
  switch (state._tag) {
    case "AwaitingStreamHeader":
      return transport === "bosh" ? el(move.features) : serverHeader()
    case "AwaitingFeatures":
      return el(move.features)
    case "AwaitingTlsProceed":
      return el(Element.make("proceed", { namespace: Namespaces.TLS }))
    case "AwaitingSaslResult": {
      const session = state.session
      if (session._tag === "Scram" && session.scram._tag === "AwaitingServerFirst") {
        return el(sasl("challenge", b64("r=clientnonceSERVER,s=QSXCR+Q6sek8bf92,i=4096")))
      }
      if (session._tag === "Scram" && session.scram._tag === "AwaitingServerFinal") {
        return el(sasl("success", b64(`v=${Buffer.from(SERVER_SIGNATURE).toString("base64")}`)))
      }
      return el(sasl("success"))
    }
    case "AwaitingBindResult":
      return el(bindResult("user@localhost/r"))
    case "AwaitingSessionResult":
      return el(iqResult("session_1"))
    default:
      return move.random
  }
}

/**
 * Feeds the server's moves; the simulated transport completes a TLS upgrade
 * whenever asked (if `tlsWorks`), and the simulated crypto answers with fixed
 * bytes.
 */
const run = (config: Negotiation.Config, moves: ReadonlyArray<Move>, tlsWorks: boolean): Trace => {
  let now = 0
  let tlsUp = config.tls !== undefined || config.secure === true
  let transition = Negotiation.make(config, now)
  const actions: Array<Negotiation.Action> = []
  const tlsUpAt: Array<boolean> = []
  const record = (t: Negotiation.Step) => {
    for (const action of t.actions) {
      actions.push(action)
      tlsUpAt.push(tlsUp)
    }
  }
  record(transition)
  const feed = (event: Negotiation.Event) => {
    transition = Negotiation.step(transition.state, event, now)
    record(transition)
    for (const action of transition.actions) {
      if (action._tag === "StartTls" && tlsWorks) {
        tlsUp = true
        feed(Negotiation.tlsEstablished(tls13()))
      }
      if (action._tag === "ComputeScram") {
        feed(Negotiation.scramComputed({
          clientProof: new Uint8Array(20),
          serverSignature: SERVER_SIGNATURE,
          keys: {
            hash: action.request.hash,
            salt: action.request.saltBase64,
            iterations: action.request.iterations,
            clientKey: new Uint8Array(20),
            serverKey: new Uint8Array(20)
          }
        }))
      }
    }
  }
  for (const move of moves) {
    now += 10
    feed(move.plausible ? plausibleAnswer(transition.state, move, config.transport) : move.random)
  }
  // The caller steps at the deadline if nothing else comes: nothing may hang.
  const deadline = Negotiation.nextDeadline(transition.state)
  if (deadline !== undefined) {
    now = deadline
    feed(Negotiation.tick)
  }
  return { actions, tlsUpAt, state: transition.state }
}

const credentialBearing = (action: Negotiation.Action) =>
  action._tag === "Send" && (action.element.name === "auth" || action.element.name === "response")

const baseConfig: Negotiation.Config = {
  transport: "tcp",
  domain: "localhost",
  credentials: { _tag: "Password", username: "user", password: "pencil" },
  clientNonce: "clientnonce",
  featuresTimeout: 1000,
  responseTimeout: 1000
}

const isTypedError = (error: unknown) =>
  error instanceof NegotiationError || error instanceof SaslMechanismError ||
  (typeof error === "object" && error !== null && "_tag" in error &&
    (error._tag === "StreamError" || error._tag === "SaslFailure"))

describe("Negotiation properties", () => {
  it("credentials never leave before TLS when TLS is required (TCP)", () => {
    fc.assert(
      fc.property(fc.array(arbMove, { maxLength: 25 }), fc.boolean(), (moves, tlsWorks) => {
        const trace = run(baseConfig, moves, tlsWorks)
        trace.actions.forEach((action, i) => {
          if (credentialBearing(action)) assert.isTrue(trace.tlsUpAt[i], "credentials sent before TLS")
        })
      }),
      { numRuns: 500 }
    )
  })

  it("credentials never leave over unencrypted BOSH unless plaintext is allowed", () => {
    fc.assert(
      fc.property(fc.array(arbMove, { maxLength: 25 }), (moves) => {
        const trace = run({ ...baseConfig, transport: "bosh" }, moves, true)
        assert.isFalse(trace.actions.some(credentialBearing))
        assert.isFalse(trace.actions.some((a) => a._tag === "StartTls"), "no STARTTLS over BOSH")
      }),
      { numRuns: 300 }
    )
  })

  it("PLAIN never goes over plaintext by default, even with plaintext allowed", () => {
    fc.assert(
      fc.property(
        fc.array(arbMove, { maxLength: 25 }),
        fc.boolean(),
        fc.constantFrom<TransportKind>("tcp", "bosh"),
        (moves, tlsWorks, transport) => {
          const trace = run({ ...baseConfig, transport, allowPlaintext: true }, moves, tlsWorks)
          trace.actions.forEach((action, i) => {
            if (action._tag === "Send" && Element.attribute(action.element, "mechanism") === "PLAIN") {
              assert.isTrue(trace.tlsUpAt[i], "PLAIN over plaintext")
            }
          })
        }
      ),
      { numRuns: 500 }
    )
  })

  it("any server input ends in Bound or exactly one typed error, never a throw or a hang", () => {
    fc.assert(
      fc.property(
        fc.array(arbMove, { maxLength: 30 }),
        fc.boolean(),
        fc.constantFrom<TransportKind>("tcp", "bosh"),
        fc.boolean(),
        (moves, tlsWorks, transport, allowPlaintext) => {
          const trace = run({ ...baseConfig, transport, allowPlaintext, allowPlainWithoutTls: allowPlaintext }, moves, tlsWorks)
          assert.isTrue(Negotiation.isDone(trace.state))
          const failures = trace.actions.filter((a) => a._tag === "Failed")
          const bounds = trace.actions.filter((a) => a._tag === "Bound")
          assert.strictEqual(failures.length + bounds.length, 1)
          assert.strictEqual(trace.actions.at(-1), failures[0] ?? bounds[0])
          for (const failure of failures) {
            if (failure._tag === "Failed") {
              assert.isTrue(isTypedError(failure.error))
              assert.isString(failure.error.reason)
              assert.isString(failure.error.message)
            }
          }
        }
      ),
      { numRuns: 1000 }
    )
  })

  it("a wrong server signature always stops the login", () => {
    const config: Negotiation.Config = {
      ...baseConfig,
      tls: { tlsVersion: "TLSv1.3", bindings: [] },
      clientNonce: "fyko+d2lbbFgONRv9qkxdawL"
    }
    const correct = Buffer.from("rmF9pqV8S7suAoZWja4dJRkFsKQ=", "base64")
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }).filter((b) => !Buffer.from(b).equals(correct)),
        fc.boolean(),
        (signature, asChallenge) => {
          let transition = Negotiation.make(config, 0)
          const actions: Array<Negotiation.Action> = []
          const feed = (event: Negotiation.Event) => {
            transition = Negotiation.step(transition.state, event, 1)
            actions.push(...transition.actions)
          }
          feed(serverHeader())
          feed(el(features(mechanisms("SCRAM-SHA-1"))))
          feed(el(sasl("challenge", b64("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"))))
          const compute = actions.find((a) => a._tag === "ComputeScram")
          if (compute?._tag !== "ComputeScram") throw new Error("no compute request")
          // The true server signature for the RFC 5802 example.
          feed(Negotiation.scramComputed({
            clientProof: Buffer.from("v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "base64"),
            serverSignature: correct,
            keys: { hash: "SHA-1", salt: "", iterations: 4096, clientKey: new Uint8Array(), serverKey: new Uint8Array() }
          }))
          const final = `v=${Buffer.from(signature).toString("base64")}`
          feed(el(sasl(asChallenge ? "challenge" : "success", b64(final))))
          feed(el(sasl("success")))
          feed(serverHeader())
          feed(el(features(bindFeature())))
          feed(el(bindResult("user@localhost/x")))
          const summary = summarize(actions)
          assert.notInclude(summary, "RestartStream")
          assert.isFalse(actions.some((a) => a._tag === "Bound"))
          assert.include(summary, "Failed SaslMechanismError invalid-server-signature")
        }
      ),
      { numRuns: 300 }
    )
  })
})
