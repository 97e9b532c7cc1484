import { assert, describe, it } from "@effect/vitest"
import { Element, Namespaces, type XmlStreamEvent } from "@xmpp-core/protocol"
import { SaslCrypto, StreamNegotiator } from "@xmpp-core/client"
import { Effect, Fiber, Queue } from "effect"
import { TestClock } from "effect/testing"

const b64 = (s: string) => Buffer.from(s).toString("base64")
const header = (id: string): XmlStreamEvent.XmlStreamEvent => ({
  _tag: "StreamOpen",
  header: Element.make("stream", {
    namespace: Namespaces.STREAMS,
    prefix: "stream",
    attributes: { from: "localhost", id, version: "1.0" }
  })
})
const element = (e: Element.Element): XmlStreamEvent.XmlStreamEvent => ({ _tag: "StreamElement", element: e })
const features = (...children: Array<Element.Element>) =>
  element(Element.make("features", { namespace: Namespaces.STREAMS, prefix: "stream", children }))
const sasl = (name: string, payload?: string) => element(Element.make(name, { namespace: Namespaces.SASL, children: [payload] }))

// A transport whose server side is a fixed script; records what the client does.
const scriptedPort = Effect.fnUntraced(function*(script: ReadonlyArray<XmlStreamEvent.XmlStreamEvent>) {
  const queue = yield* Queue.unbounded<XmlStreamEvent.XmlStreamEvent>()
  for (const event of script) yield* Queue.offer(queue, event)
  const log: Array<string> = []
  const port: StreamNegotiator.Port<never> = {
    receive: Queue.take(queue),
    send: (e) => Effect.sync(() => void log.push(`send ${e.name} ${Element.text(e)}`)),
    sendStreamHeader: () => Effect.sync(() => void log.push("header")),
    startTls: Effect.sync(() => {
      log.push("starttls")
      return { tlsVersion: "TLSv1.3", bindings: [] }
    }),
    restart: Effect.sync(() => void log.push("restart"))
  }
  return { port, log }
})

describe("StreamNegotiator", () => {
  it.effect("logs in over TCP with STARTTLS and SCRAM-SHA-256 (RFC 7677 vector) and binds", () =>
    Effect.gen(function*() {
      const { log, port } = yield* scriptedPort([
        header("1"),
        features(
          Element.make("starttls", { namespace: Namespaces.TLS }),
          Element.make("mechanisms", {
            namespace: Namespaces.SASL,
            children: [Element.make("mechanism", { namespace: Namespaces.SASL, children: ["SCRAM-SHA-256"] })]
          })
        ),
        element(Element.make("proceed", { namespace: Namespaces.TLS })),
        header("2"),
        features(Element.make("mechanisms", {
          namespace: Namespaces.SASL,
          children: [Element.make("mechanism", { namespace: Namespaces.SASL, children: ["SCRAM-SHA-256"] })]
        })),
        sasl("challenge", b64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")),
        sasl("success", b64("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")),
        header("3"),
        features(Element.make("bind", { namespace: Namespaces.BIND })),
        element(Element.make("iq", {
          namespace: Namespaces.JABBER_CLIENT,
          attributes: { type: "result", id: "bind_1" },
          children: [Element.make("bind", {
            namespace: Namespaces.BIND,
            children: [Element.make("jid", { namespace: Namespaces.BIND, children: ["user@localhost/r"] })]
          })]
        }))
      ])
      const bound = yield* StreamNegotiator.negotiate(port, {
        transport: "tcp",
        domain: "localhost",
        credentials: { _tag: "Password", username: "user", password: "pencil" },
        clientNonce: "rOprNGfwEbeRWgbNEkqO"
      })
      assert.deepStrictEqual(bound.jid, { local: "user", domain: "localhost", resource: "r" })
      assert.strictEqual(bound.mechanism, "SCRAM-SHA-256")
      assert.deepStrictEqual(log, [
        "header",
        "send starttls ",
        "starttls",
        "restart",
        "header",
        `send auth ${b64("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")}`,
        `send response ${
          b64(
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
          )
        }`,
        "restart",
        "header",
        "send iq "
      ])
    }).pipe(Effect.provide(SaslCrypto.layerWebCrypto)))

  it.effect("fails with a typed timeout when the server never sends features", () =>
    Effect.gen(function*() {
      const { port } = yield* scriptedPort([header("1")])
      const fiber = yield* StreamNegotiator.negotiate(port, {
        transport: "tcp",
        domain: "localhost",
        credentials: { _tag: "Password", username: "user", password: "pencil" },
        featuresTimeout: 10_000
      }).pipe(Effect.flip, Effect.forkChild)
      yield* TestClock.adjust("9 seconds")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "NegotiationError")
      assert.strictEqual(error.reason, "features-timeout")
    }).pipe(Effect.provide(SaslCrypto.layerWebCrypto)))
})
