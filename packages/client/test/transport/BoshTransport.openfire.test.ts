/**
 * The BOSH transport and XmppClient against a scripted Openfire-like
 * connection manager (in-memory HttpClient layer, see OpenfireLikeManager),
 * on the TestClock: Openfire's quirks must neither break the login nor hang it.
 */
import { assert, describe, it } from "@effect/vitest"
import { BoshConnection, BoshTransport, SaslCrypto, XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { Element, Namespaces } from "@xmpp-core/protocol"
import { Effect, Fiber, Layer, Schema, Stream } from "effect"
import { SecureRandom } from "effect/crypto"
import { TestClock } from "effect/testing"
import * as OpenfireLikeManager from "./OpenfireLikeManager.js"

const settings = Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
  jid: "alice@localhost",
  password: "alicepass",
  resource: "desk",
  mechanisms: ["PLAIN"]
})

const URL = "https://openfire.example/http-bind"
const http = { url: URL, maxResponseBytes: 1 << 20 }

/** A client logged in through the scripted manager. */
const login = (manager: ReturnType<typeof OpenfireLikeManager.make>) =>
  Effect.gen(function*() {
    const transport = yield* BoshTransport.connect({ domain: "localhost", http, account: "alice@localhost" })
    return yield* XmppClient.fromTransport(transport, settings)
  }).pipe(Effect.provide(Layer.mergeAll(manager.layer, SaslCrypto.layerWebCrypto, SecureRandom.layerWebCrypto)))

describe("BoshTransport against a scripted Openfire-like manager", () => {
  it.effect("logs in: no ver, a restart answered without features (they come next), stanzas without xmlns", () =>
    Effect.gen(function*() {
      const manager = OpenfireLikeManager.make()
      const client = yield* login(manager)
      assert.strictEqual(client.transport, "bosh")
      assert.deepStrictEqual(client.jid, { local: "alice", domain: "localhost", resource: "desk" })
      const restart = manager.script.requests.find((text) => text.includes("restart"))
      assert.isDefined(restart)
      assert.match(restart, / xmpp:restart='true'/)
      assert.match(restart, /xmlns:xmpp='urn:xmpp:xbosh'/)
      // The features came on the request after the restart, not in its answer.
      const restartIndex = manager.script.requests.indexOf(restart)
      assert.isAbove(manager.script.requests.length, restartIndex + 1)

      const received = yield* Effect.forkChild(client.stanzas.pipe(Stream.take(1), Stream.runCollect))
      yield* manager.script.push("<message from='bob@localhost/x' id='of-1' type='chat'><body>no xmlns here</body></message>")
      const [message] = yield* Fiber.join(received)
      assert.isDefined(message)
      assert.strictEqual(message.namespace, Namespaces.JABBER_CLIENT)
      assert.strictEqual(Element.attribute(message, "id"), "of-1")
      assert.strictEqual(Element.text(Element.child(message, "body", Namespaces.JABBER_CLIENT) ?? message), "no xmlns here")
      yield* client.close
      assert.match(manager.script.requests.at(-1) ?? "", /type='terminate'/)
    }).pipe(Effect.scoped))

  it.effect("a session creation response without ver is read as BOSH 1.5", () =>
    Effect.gen(function*() {
      const connection = yield* BoshConnection.connect({ http, session: { to: "localhost" } })
      const parameters = yield* connection.established
      assert.deepStrictEqual(parameters.version, { major: 1, minor: 5 })
      assert.isTrue(parameters.legacy)
      assert.strictEqual(parameters.authid, "openfire-1")
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.mergeAll(OpenfireLikeManager.make().layer, SecureRandom.layerWebCrypto))
    ))

  it.effect("an unknown sid (HTTP 404) ends the stanzas with a typed error naming item-not-found", () =>
    Effect.gen(function*() {
      const manager = OpenfireLikeManager.make()
      const client = yield* login(manager)
      const ended = yield* Effect.forkChild(client.stanzas.pipe(Stream.runDrain, Effect.flip))
      // The held request, and any later one, meets the 404.
      yield* manager.script.forget
      const error = yield* Fiber.join(ended)
      assert.strictEqual(error.reason, "ConnectionLost")
      assert.strictEqual(error.condition, "item-not-found")
      const cause = error.cause
      assert.isTrue(cause !== null && typeof cause === "object" && "_tag" in cause && cause._tag === "TransportError")
    }).pipe(Effect.scoped))

  it.effect("a relayed stream error (remote-stream-error) reaches the client as its XMPP condition", () =>
    Effect.gen(function*() {
      const manager = OpenfireLikeManager.make()
      const client = yield* login(manager)
      const ended = yield* Effect.forkChild(client.stanzas.pipe(Stream.runDrain, Effect.flip))
      yield* manager.script.terminate(
        "<body xmlns='http://jabber.org/protocol/httpbind' type='terminate' condition='remote-stream-error' xmlns:stream='http://etherx.jabber.org/streams'><stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></body>"
      )
      const error = yield* Fiber.join(ended)
      assert.strictEqual(error.reason, "StreamError")
      assert.strictEqual(error.condition, "conflict")
    }).pipe(Effect.scoped))

  it.effect("a stream error during login (ejabberd's connection-timeout) fails the login with its condition", () =>
    Effect.gen(function*() {
      const manager = OpenfireLikeManager.make()
      // The first request after session creation (the SASL auth) meets it.
      yield* manager.script.terminate(
        "<body xmlns='http://jabber.org/protocol/httpbind' type='terminate' condition='remote-stream-error' xmlns:stream='http://etherx.jabber.org/streams'><stream:error><connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></body>"
      )
      const error = yield* login(manager).pipe(Effect.flip)
      assert.strictEqual(error.reason, "StreamError")
      assert.strictEqual(error.condition, "connection-timeout")
    }).pipe(Effect.scoped))

  it.effect("after the session ended, send answers with the error that ended it, not Closed", () =>
    Effect.gen(function*() {
      const manager = OpenfireLikeManager.make()
      const client = yield* login(manager)
      const ended = yield* Effect.forkChild(client.stanzas.pipe(Stream.runDrain, Effect.flip))
      yield* manager.script.terminate(
        "<body xmlns='http://jabber.org/protocol/httpbind' type='terminate' condition='remote-stream-error' xmlns:stream='http://etherx.jabber.org/streams'><stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></body>"
      )
      yield* Fiber.join(ended)
      const refused = yield* client.send(
        Element.make("message", { namespace: Namespaces.JABBER_CLIENT, attributes: { to: "bob@localhost", id: "late" } })
      ).pipe(Effect.flip)
      assert.deepStrictEqual([refused.reason, refused.condition], ["StreamError", "conflict"])
    }).pipe(Effect.scoped))

  it.effect("see-other-uri ends the session with a typed error that names the condition and the URI", () =>
    Effect.gen(function*() {
      const manager = OpenfireLikeManager.make()
      const client = yield* login(manager)
      const ended = yield* Effect.forkChild(client.stanzas.pipe(Stream.runDrain, Effect.flip))
      yield* manager.script.terminate(
        "<body xmlns='http://jabber.org/protocol/httpbind' type='terminate' condition='see-other-uri'><uri>https://other.example/http-bind</uri></body>"
      )
      const error = yield* Fiber.join(ended)
      assert.strictEqual(error.reason, "ConnectionLost")
      assert.strictEqual(error.condition, "see-other-uri")
      assert.include(error.message, "https://other.example/http-bind")
    }).pipe(Effect.scoped))

  it.effect("a restart whose features never come fails with features-timeout instead of hanging", () =>
    Effect.gen(function*() {
      const manager = OpenfireLikeManager.make()
      manager.script.sendFeaturesAfterRestart = false
      const attempt = yield* Effect.forkChild(Effect.flip(login(manager)))
      // Negotiation's own deadline (30 s by default) ends the wait. Time moves a second at a
      // time, so the login gets as far as it goes (auth, restart) whenever the driver's timers
      // wake: one jump of 31 s could end the wait for the first features before auth was sent.
      for (let second = 0; second < 120 && attempt.pollUnsafe() === undefined; second++) {
        yield* TestClock.adjust("1 second")
      }
      const error = yield* Fiber.join(attempt)
      assert.strictEqual(error.reason, "NegotiationFailed")
      assert.strictEqual(error.condition, "features-timeout")
    }).pipe(Effect.scoped))
})
