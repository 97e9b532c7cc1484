/**
 * The Node connector against scripted loopback peers written in the test:
 * bytes after a proxy's reply, garbage, silence, a refused port, a name that
 * does not resolve. Real sockets, so real time: only the connect timeout
 * (300 ms) is waited on.
 */
import { assert, describe, it } from "@effect/vitest"
import { Connector, Route } from "@xmpp-core/client"
import { NodeConnector } from "@xmpp-core/platform-node"
import { Deferred, Effect, Option, Redacted } from "effect"
import * as Net from "node:net"
import { exchange } from "./Read.js"
import { closedPort, listen, silent } from "./ScriptedPeer.js"

const timeout = 300
const connectorLayer = NodeConnector.layer({ connectTimeout: timeout })

const connect = (route: Route.Route) =>
  Effect.gen(function*() {
    const connector = yield* Connector.Connector
    return yield* connector.connect(route)
  }).pipe(Effect.provide(connectorLayer))

const failure = (route: Route.Route) => Effect.flip(connect(route))

const elapsed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const result = yield* effect
    return { result, ms: performance.now() - start }
  })

describe("NodeConnector with scripted peers", () => {
  it.live("direct: bytes flow both ways", () =>
    Effect.gen(function*() {
      const port = yield* listen((socket) => socket.on("data", (data) => socket.write(`echo:${data.toString()}`)))
      const connection = yield* connect(Route.make("127.0.0.1", port))
      assert.strictEqual(yield* exchange(connection, "ping", "echo:ping"), "echo:ping")
    }))

  it.live("HTTP CONNECT: bytes the proxy sends after its 200 are the first bytes the next layer reads", () =>
    Effect.gen(function*() {
      let request = ""
      const proxy = yield* listen((socket) =>
        socket.once("data", (data) => {
          request = data.toString("latin1")
          socket.write("HTTP/1.1 200 Connection established\r\n\r\n<?xml version='1.0'?><stream:stream>")
        })
      )
      const connection = yield* connect(Route.make("xmpp.example", 5222, {
        proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: proxy, credentials: { username: "u", password: Redacted.make("p") } }]
      }))
      const received = yield* exchange(connection, undefined, "<stream:stream>")
      assert.strictEqual(received, "<?xml version='1.0'?><stream:stream>")
      assert.strictEqual(request, "CONNECT xmpp.example:5222 HTTP/1.1\r\nHost: xmpp.example:5222\r\nProxy-Authorization: Basic dTpw\r\n\r\n")
    }))

  it.live("SOCKS5: bytes after the reply survive too", () =>
    Effect.gen(function*() {
      const proxy = yield* listen((socket) => {
        let step = 0
        socket.on("data", () => {
          step++
          if (step === 1) socket.write(Buffer.from([5, 0]))
          // Reply and the server's first bytes in one segment.
          if (step === 2) socket.write(Buffer.concat([Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 80]), Buffer.from("hello")]))
        })
      })
      const connection = yield* connect(Route.make("xmpp.example", 5222, { proxies: [{ _tag: "Socks5", host: "127.0.0.1", port: proxy }] }))
      assert.strictEqual(yield* exchange(connection, undefined, "hello"), "hello")
    }))

  it.live("a refused port is ConnectError Refused on hop 0", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const error = yield* failure(Route.make("127.0.0.1", port))
      assert.strictEqual(error._tag, "ConnectError")
      assert.strictEqual(error.reason, "Refused")
      assert.deepStrictEqual(error.hop, { index: 0, kind: "Direct", host: "127.0.0.1", port })
    }))

  it.live("a name that does not resolve is ConnectError DnsFailed", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("no-such-host.invalid", 5222))
      assert.isTrue(error._tag === "ConnectError" && error.reason === "DnsFailed", error.message)
    }))

  it.live("a silent HTTP proxy is ConnectError TimedOut on its hop, within the timeout", () =>
    Effect.gen(function*() {
      const proxy = yield* silent
      const { result: error, ms } = yield* elapsed(failure(Route.make("x.example", 1, { proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: proxy }] })))
      assert.isTrue(error._tag === "ConnectError" && error.reason === "TimedOut", error.message)
      assert.deepStrictEqual(error.hop, { index: 1, kind: "HttpConnect", host: "127.0.0.1", port: proxy })
      assert.isBelow(ms, timeout * 5)
    }))

  it.live("a silent SOCKS5 proxy is ConnectError TimedOut on its hop", () =>
    Effect.gen(function*() {
      const proxy = yield* silent
      const error = yield* failure(Route.make("x.example", 1, { proxies: [{ _tag: "Socks5", host: "127.0.0.1", port: proxy }] }))
      assert.isTrue(error._tag === "ConnectError" && error.reason === "TimedOut" && error.hop.kind === "Socks5", error.message)
    }))

  it.live("a silent TLS peer is TlsError TimedOut", () =>
    Effect.gen(function*() {
      const port = yield* silent
      const { result: error, ms } = yield* elapsed(failure(Route.make("127.0.0.1", port, { tls: {} })))
      assert.isTrue(error._tag === "TlsError" && error.reason === "TimedOut", error.message)
      assert.strictEqual(error.hop.kind, "Tls")
      assert.isBelow(ms, timeout * 5)
    }))

  it.live("garbage from an HTTP proxy is ProxyError BadResponse", () =>
    Effect.gen(function*() {
      const proxy = yield* listen((socket) => socket.once("data", () => socket.write("SSH-2.0-OpenSSH_9.2\r\n\r\n")))
      const error = yield* failure(Route.make("x.example", 1, { proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: proxy }] }))
      assert.isTrue(error._tag === "ProxyError" && error.reason === "BadResponse", error.message)
      assert.strictEqual(error.hop.index, 1)
    }))

  it.live("garbage from a SOCKS5 proxy is ProxyError BadResponse", () =>
    Effect.gen(function*() {
      const proxy = yield* listen((socket) => socket.once("data", () => socket.write("HTTP/1.1 400 Bad Request\r\n\r\n")))
      const error = yield* failure(Route.make("x.example", 1, { proxies: [{ _tag: "Socks5", host: "127.0.0.1", port: proxy }] }))
      assert.isTrue(error._tag === "ProxyError" && error.reason === "BadResponse", error.message)
    }))

  it.live("a proxy that closes mid-handshake is ConnectError Closed", () =>
    Effect.gen(function*() {
      const proxy = yield* listen((socket) => socket.once("data", () => socket.end("HTTP/1.1 200")))
      const error = yield* failure(Route.make("x.example", 1, { proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: proxy }] }))
      assert.isTrue(error._tag === "ConnectError" && error.reason === "Closed", error.message)
    }))

  it.live("garbage instead of a TLS server hello is TlsError HandshakeFailed", () =>
    Effect.gen(function*() {
      const port = yield* listen((socket) => socket.once("data", () => socket.write("<stream:stream xmlns='jabber:client'>\r\n".repeat(20))))
      const error = yield* failure(Route.make("127.0.0.1", port, { tls: {} }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "HandshakeFailed", error.message)
    }))

  it.live("bytes a peer sends before the TLS handshake are reported, not fed to TLS", () =>
    Effect.gen(function*() {
      const proxy = yield* listen((socket) => socket.once("data", () => socket.write("HTTP/1.1 200 OK\r\n\r\nplaintext")))
      const error = yield* failure(Route.make("x.example", 1, { proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: proxy }], tls: {} }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "HandshakeFailed" && error.message.includes("9 bytes"), error.message)
    }))

  it.live("openNodeSocketDetached: a Node socket through a proxy, owned by the caller", () =>
    Effect.gen(function*() {
      const target = yield* listen((socket) => socket.on("data", (data) => socket.write(`echo:${data.toString()}`)))
      const proxy = yield* listen((client) => {
        client.once("data", () => {
          const upstream = Net.connect({ host: "127.0.0.1", port: target }, () => {
            client.write("HTTP/1.1 200 OK\r\n\r\n")
            client.pipe(upstream).pipe(client)
          })
        })
      })
      const { socket, tls } = yield* NodeConnector.openNodeSocketDetached(
        Route.make("127.0.0.1", target, { proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: proxy }] }),
        { connectTimeout: timeout }
      )
      assert.isTrue(Option.isNone(tls))
      const answer = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          socket.once("data", (data) => resolve(data.toString()))
          socket.write("x")
        })
      )
      socket.destroy()
      assert.strictEqual(answer, "echo:x")
      const port = yield* closedPort
      const error = yield* Effect.flip(NodeConnector.openNodeSocketDetached(Route.make("127.0.0.1", port), { connectTimeout: timeout }))
      assert.strictEqual(error.reason, "Refused")
    }))

  it.live("closing the connection's scope closes the socket: the peer sees the end", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<void>()
      const port = yield* listen((socket) => socket.once("close", () => Deferred.doneUnsafe(closed, Effect.void)))
      yield* Effect.scoped(connect(Route.make("127.0.0.1", port)))
      // Fails with a timeout if the socket outlived its scope.
      yield* Deferred.await(closed).pipe(Effect.timeout(1000))
    }))
})
