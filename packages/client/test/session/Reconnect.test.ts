/**
 * The reconnect policy against a scripted server (test clock): what is
 * retried and what is final. A network failure gets the policy's tries; a
 * proxy that refuses our credentials would refuse them again, so the session
 * gives up at once with that cause.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  BoshHttpClients,
  type ConnectionEvent,
  ConnectError,
  ProxyError,
  SaslCrypto,
  TransportError,
  XmppClient,
  XmppClientConfig
} from "@xmpp-core/client"
import { Effect, Fiber, Layer, Queue, Schema, Stream } from "effect"
import { SecureRandom } from "effect/crypto"
import { TestClock } from "effect/testing"
import * as ScriptedServer from "../transport/ScriptedServer.js"

const SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
const BIND = "urn:ietf:params:xml:ns:xmpp-bind"

/** PLAIN over direct TLS, then bind; nothing else is answered. */
const login = () => {
  let authenticated = false
  return (written: string): string | undefined => {
    if (written.startsWith("<?xml")) {
      return authenticated
        ? `${ScriptedServer.serverHeader("2")}<stream:features><bind xmlns='${BIND}'/></stream:features>`
        : `${ScriptedServer.serverHeader("1")}<stream:features><mechanisms xmlns='${SASL}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`
    }
    if (written.startsWith("<auth")) {
      authenticated = true
      return `<success xmlns='${SASL}'/>`
    }
    if (written.startsWith("<iq") && written.includes(BIND)) {
      return `<iq type='result' id='bind_1'><bind xmlns='${BIND}'><jid>alice@localhost/desk</jid></bind></iq>`
    }
    return undefined
  }
}

const config = Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
  jid: "alice@localhost",
  password: "alicepass",
  resource: "desk",
  mechanisms: ["PLAIN"],
  transport: { _tag: "tcp", host: "127.0.0.1", directTls: true },
  reconnect: { attempts: 4, initialDelay: 100, maxDelay: 400 }
})

const hop = { index: 0, kind: "HttpConnect", host: "proxy.example", port: 3128 } as const

/** Connects, loses the link, lets the clock run: the events until GaveUp, and how many dials there were. */
const loseLinkWhenReconnectsFail = (failure: ConnectError | ProxyError) =>
  Effect.gen(function*() {
    const scripted = yield* ScriptedServer.make({
      respond: login(),
      failDial: (dial) => dial > 1 ? failure : undefined
    })
    const client = yield* XmppClient.connect(config).pipe(
      Effect.provide(Layer.mergeAll(scripted.layer, SaslCrypto.layerWebCrypto, BoshHttpClients.layerFetch, SecureRandom.layerWebCrypto))
    )
    const seen = yield* Queue.unbounded<ConnectionEvent>()
    const events = yield* client.events.pipe(Stream.runForEach((event) => Queue.offer(seen, event)), Effect.forkChild)
    yield* Effect.yieldNow
    yield* scripted.server.reset
    const tags: Array<string> = []
    let last: ConnectionEvent | undefined
    while (last?._tag !== "GaveUp") {
      const next = yield* Queue.poll(seen)
      if (next._tag === "None") {
        yield* TestClock.adjust("1 second")
        continue
      }
      last = next.value
      tags.push(last._tag)
    }
    yield* Fiber.interrupt(events)
    return { tags, error: last.error, dials: scripted.server.dialed.length }
  })

describe("reconnect policy (scripted server, test clock)", () => {
  it.effect("a proxy refusing our credentials on a reconnect is final: one try, the proxy's cause", () =>
    Effect.gen(function*() {
      const refused = new ProxyError({ reason: "AuthFailed", message: "proxy credentials refused", hop })
      const { dials, error, tags } = yield* loseLinkWhenReconnectsFail(refused)
      assert.deepStrictEqual(tags, ["Disconnected", "Reconnecting", "GaveUp"])
      assert.strictEqual(dials, 2)
      const transport = error.cause
      assert.instanceOf(transport, TransportError)
      assert.strictEqual(transport instanceof TransportError ? transport.cause : undefined, refused)
    }))

  it.effect("a proxy that cannot reach the server is a network failure: every try of the policy", () =>
    Effect.gen(function*() {
      const unreachable = new ProxyError({ reason: "HostUnreachable", message: "host unreachable", hop })
      const { dials, tags } = yield* loseLinkWhenReconnectsFail(unreachable)
      assert.deepStrictEqual(tags, ["Disconnected", "Reconnecting", "Reconnecting", "Reconnecting", "Reconnecting", "GaveUp"])
      assert.strictEqual(dials, 5)
    }))

  it.effect("a refused connection is retried too", () =>
    Effect.gen(function*() {
      const refused = new ConnectError({ reason: "Refused", message: "refused", hop: { index: 0, kind: "Direct", host: "127.0.0.1", port: 5223 } })
      const { dials } = yield* loseLinkWhenReconnectsFail(refused)
      assert.strictEqual(dials, 5)
    }))
})
