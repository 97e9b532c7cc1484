import { BoshConnection } from "@xmpp-core/client"
import { Element } from "@xmpp-core/protocol"
import { BoshSimulatedConnectionManager as CM } from "@xmpp-core/protocol/testing"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Fiber, Layer } from "effect"
import { SecureRandom } from "effect/crypto"
import { TestClock } from "effect/testing"
import { type Faults, layerTestSimulatedManager, type Recorder } from "./SimulatedHttp.js"

const config: CM.Config = {
  wait: 10,
  hold: 1,
  requests: 2,
  polling: 2,
  inactivity: 60,
  enforceKeys: true,
  acknowledgements: true
}

// Deterministic bytes stand in for a secure source in tests only.
const layerTestRandom = Layer.succeed(
  SecureRandom.SecureRandom,
  SecureRandom.make((size) => Uint8Array.from({ length: size }, (_, i) => (i * 37 + 11) & 255))
)

const message = (id: string) =>
  Element.make("message", {
    namespace: "jabber:client",
    attributes: { id, to: "bob@localhost" },
    children: [Element.make("body", { namespace: "jabber:client", children: [id] })]
  })

const options = {
  http: { url: "http://cm.test/http-bind", maxResponseBytes: 1 << 20 },
  session: { to: "localhost", wait: 10, timeoutMarginMs: 2000 }
}

const withManager = (cm: CM.ConnectionManager, faults: Faults = {}, recorder?: Recorder) =>
  Effect.provide(Layer.mergeAll(layerTestSimulatedManager(cm, faults, recorder), layerTestRandom))

const ids = (elements: ReadonlyArray<Element.Element>) => elements.map((e) => Element.attribute(e, "id"))

/** A connection whose session is up and whose stream features were taken. */
const pastFeatures = Effect.gen(function*() {
  const connection = yield* BoshConnection.connect(options)
  yield* connection.established
  assert.strictEqual((yield* connection.receive).name, "features")
  return connection
})

describe("BoshConnection (driver over HttpClient + Clock)", () => {
  it.effect("refuses options that do not decode, before any request", () => {
    const cm = CM.make(config)
    const recorder: Recorder = { posted: [] }
    return Effect.gen(function*() {
      const error = yield* Effect.flip(BoshConnection.connect({ ...options, session: { to: "localhost", wait: -5 } }))
      assert.strictEqual(error._tag, "BoshError")
      assert.strictEqual(error._tag === "BoshError" ? error.reason : "", "invalid-options")
      assert.deepStrictEqual(recorder.posted, [])
    }).pipe(Effect.scoped, withManager(cm, {}, recorder))
  })

  it.effect("opens a session, carries stanzas both ways in order, and closes with the last stanza", () => {
    const cm = CM.make(config)
    const recorder: Recorder = { posted: [] }
    return Effect.gen(function*() {
      const connection = yield* BoshConnection.connect(options)
      const parameters = yield* connection.established
      assert.strictEqual(parameters.requests, 2)
      assert.strictEqual(parameters.hold, 1)
      const features = yield* connection.receive
      assert.strictEqual(features.name, "features")
      yield* connection.send([message("c-1"), message("c-2")])
      yield* connection.send([message("c-3")])
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(ids(cm.forwarded), ["c-1", "c-2", "c-3"])
      // The manager answers the request it holds with the server's stanzas.
      yield* (recorder.push?.([message("s-1"), message("s-2")]) ?? Effect.die("layer not built"))
      const first = yield* connection.receive
      const second = yield* connection.receive
      assert.deepStrictEqual(ids([first, second]), ["s-1", "s-2"])
      yield* connection.close([message("bye")])
      assert.deepStrictEqual(ids(cm.forwarded), ["c-1", "c-2", "c-3", "bye"])
      assert.deepStrictEqual(cm.violations, [])
    }).pipe(Effect.scoped, withManager(cm, {}, recorder))
  })

  it.effect("once the session ended, receive hands out what was delivered, then fails with Done (no wait forever)", () => {
    const cm = CM.make(config)
    const recorder: Recorder = { posted: [] }
    return Effect.gen(function*() {
      const connection = yield* pastFeatures
      yield* connection.send([message("c-1")])
      yield* TestClock.adjust("1 second")
      yield* (recorder.push?.([message("s-1"), message("s-2")]) ?? Effect.die("layer not built"))
      yield* TestClock.adjust("1 second")
      // Delivered and not taken yet when the session ends.
      yield* connection.close()
      const first = yield* connection.receive
      const second = yield* connection.receive
      assert.deepStrictEqual(ids([first, second]), ["s-1", "s-2"])
      const done = yield* Effect.flip(connection.receive)
      assert.isTrue(Cause.isDone(done))
    }).pipe(Effect.scoped, withManager(cm, {}, recorder))
  })

  it.effect("a receive waiting when the session ends fails with Done", () => {
    const cm = CM.make(config)
    return Effect.gen(function*() {
      const connection = yield* pastFeatures
      const waiting = yield* Effect.forkChild(Effect.flip(connection.receive))
      yield* TestClock.adjust("10 millis")
      yield* connection.close()
      assert.isTrue(Cause.isDone(yield* Fiber.join(waiting)))
    }).pipe(Effect.scoped, withManager(cm))
  })

  it.effect("a hung exchange is sent again after wait + margin with the same rid and bytes (TestClock)", () => {
    const cm = CM.make(config)
    const recorder: Recorder = { posted: [] }
    // Exchange 0 creates the session, 1 is the empty request held while the caller waits, 2 carries c-1 and hangs.
    return Effect.gen(function*() {
      const connection = yield* pastFeatures
      yield* Effect.forkChild(connection.receive)
      // The poll goes once the receive's scheduler turns have passed (by cause: its exchange is posted).
      for (let turn = 0; recorder.posted.length < 2 && turn < 100; turn++) yield* Effect.yieldNow
      assert.strictEqual(recorder.posted.length, 2)
      yield* connection.send([message("c-1")])
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(ids(cm.forwarded), [])
      // wait (10 s) + margin (2 s): the driver gives up on the exchange, then resends after 0.5 s backoff.
      yield* TestClock.adjust("12 seconds")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(ids(cm.forwarded), ["c-1"])
      const carrying = recorder.posted.filter((text) => text.includes("c-1"))
      assert.strictEqual(carrying.length, 2)
      assert.strictEqual(carrying[0], carrying[1])
      assert.deepStrictEqual(cm.violations, [])
    }).pipe(Effect.scoped, withManager(cm, { hang: new Set([2]) }, recorder))
  })

  it.effect("a condition only in the HTTP reason phrase with status 200 (ejabberd) ends the session, typed", () => {
    const cm = CM.make({ ...config, conditionInReasonPhrase: true })
    return Effect.gen(function*() {
      const connection = yield* BoshConnection.connect(options)
      yield* connection.established
      // The manager forgets the session: every later answer is item-not-found, in the reason phrase only.
      cm.session = undefined
      yield* connection.send([message("c-1")])
      // The request the manager held is lost with the session: it times out (10 + 2 s) and is resent.
      for (let second = 0; second < 20; second++) yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(connection.ended)
      assert.strictEqual(error.reason, "item-not-found")
      assert.strictEqual(error.status, 200)
    }).pipe(Effect.scoped, withManager(cm, { conditionOnlyInReasonPhrase: true }))
  })

  it.effect("when the manager is gone the session ends with a typed BoshError, within bounded time", () => {
    const cm = CM.make(config)
    return Effect.gen(function*() {
      const connection = yield* BoshConnection.connect(options)
      yield* connection.established
      yield* connection.send([message("c-1")])
      // Each refusal is retried with backoff 0.5, 1, 2, 4 s; the fifth failure ends it.
      yield* TestClock.adjust("30 seconds")
      const error = yield* Effect.flip(connection.ended)
      assert.strictEqual(error._tag, "BoshError")
      assert.strictEqual(error.reason, "connection-manager-unreachable")
      // Every later call answers with the error that ended the session, not a bare refusal.
      assert.strictEqual(yield* Effect.flip(connection.send([message("late")])), error)
      assert.strictEqual(yield* Effect.flip(connection.restart), error)
      assert.strictEqual(yield* Effect.flip(connection.close()), error)
    }).pipe(Effect.scoped, withManager(cm, { goneFrom: 1 }))
  })
})
