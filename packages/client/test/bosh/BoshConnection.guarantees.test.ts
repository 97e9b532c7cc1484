/**
 * Guarantees of the BOSH driver that the machine's properties cannot see,
 * because they are about how the driver performs the machine's actions:
 * a slow reader holds the machine (deliveries are not forked off, so
 * nothing piles up and the order is the machine's),
 * a resend supersedes the exchange it repeats, and the account never
 * travels in `from` over plain HTTP.
 */
import { BoshConnection, BoshTransport } from "@xmpp-core/client"
import { Element } from "@xmpp-core/protocol"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { SecureRandom } from "effect/crypto"
import { TestClock } from "effect/testing"
import * as ScriptedManager from "./ScriptedManager.js"

// Deterministic bytes stand in for a secure source in tests only.
const layerTestRandom = Layer.succeed(
  SecureRandom.SecureRandom,
  SecureRandom.make((size) => Uint8Array.from({ length: size }, (_, i) => (i * 37 + 11) & 255))
)

const http = (url: string) => ({ url, maxResponseBytes: 1 << 20 })
const messages = (count: number, after = 0) =>
  Array.from({ length: count }, (_, i) => `<message xmlns='jabber:client' id='m${after + i + 1}'/>`).join("")
const idOf = (element: Element.Element) => Element.attribute(element, "id") ?? element.name

describe("BoshConnection guarantees", () => {
  it.effect("a slow reader holds the machine: nothing more is fetched while payloads wait, and they come in order", () => {
    // Every request is answered with the next three messages: m1-m3, m4-m6, …
    let answered = 0
    const manager = ScriptedManager.make(() => {
      const first = answered * 3
      answered++
      return `<body xmlns='http://jabber.org/protocol/httpbind'>${messages(3, first)}</body>`
    })
    return Effect.gen(function*() {
      const connection = yield* BoshConnection.connect({
        http: http("https://cm.test/bosh"),
        session: { to: "localhost" },
        incomingCapacity: 2
      })
      yield* connection.established
      // The application sends a stanza every 100 ms; each request comes back with three payloads for nobody.
      const sender = yield* Effect.forkChild(Effect.forEach(
        Array.from({ length: 10 }, (_, i) => Element.make("message", { namespace: "jabber:client", attributes: { id: `c${i}` } })),
        (stanza) => Effect.andThen(connection.send([stanza]), Effect.sleep("100 millis")),
        { discard: true }
      ))
      yield* TestClock.adjust("5 seconds")
      // Back-pressure: the first answer fills the reader's queue and holds the machine there.
      assert.isAtMost(manager.script.requests.length, 2, "the machine kept fetching for a reader that does not read")
      const read: Array<string> = []
      while (read.length < 30) {
        read.push(idOf(yield* connection.receive))
        yield* TestClock.adjust("100 millis")
      }
      yield* Fiber.join(sender)
      assert.deepStrictEqual(read, Array.from({ length: 30 }, (_, i) => `m${i + 1}`))
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(manager.layer, layerTestRandom)))
  })

  it.effect("a resend supersedes the exchange of its rid: never two live exchanges for one rid", () => {
    // Every request after the creation hangs: the machine times it out and sends the same rid again.
    const manager = ScriptedManager.make(() => undefined)
    return Effect.gen(function*() {
      const connection = yield* BoshConnection.connect({
        http: http("https://cm.test/bosh"),
        session: { to: "localhost", timeoutMarginMs: 1_000 }
      })
      yield* connection.established
      yield* Effect.forkChild(connection.receive)
      yield* connection.send([Element.make("message", { namespace: "jabber:client", attributes: { id: "c-1" } })])
      // wait (10 s) + margin (1 s), then the backoff: three rounds of resends.
      for (let second = 0; second < 40; second++) yield* TestClock.adjust("1 second")
      const rids = manager.script.requests.map((text) => /\srid='(\d+)'/.exec(text)?.[1])
      assert.isAbove(rids.length, new Set(rids).size, "some rid was sent again")
      assert.strictEqual(manager.script.maxLivePerRid(), 1)
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(manager.layer, layerTestRandom)))
  })

  it.effect("the account travels in `from` over https only, never over plain http", () =>
    Effect.gen(function*() {
      for (const [url, expected] of [["http://cm.test/bosh", false], ["https://cm.test/bosh", true]] as const) {
        const manager = ScriptedManager.make(() => undefined)
        yield* BoshTransport.connect({ domain: "localhost", http: http(url), account: "alice@localhost" }).pipe(
          Effect.scoped,
          Effect.provide(manager.layer)
        )
        const creation = manager.script.creation ?? ""
        assert.include(creation, "to='localhost'")
        assert.strictEqual(creation.includes("from='alice@localhost'"), expected, creation)
      }
    }).pipe(Effect.provide(layerTestRandom)))
})
