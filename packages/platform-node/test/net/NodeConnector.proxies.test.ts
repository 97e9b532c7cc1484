/**
 * The Node connector through real proxies (tinyproxy, microsocks) to real
 * Prosody, as `./run servers up` starts them. Real sockets: the connect
 * timeout is real time (kept short).
 */
import { assert, describe, it } from "@effect/vitest"
import { Connector, Route } from "@xmpp-core/client"
import { NodeConnector } from "@xmpp-core/platform-node"
import { Effect, Option, Redacted } from "effect"
import { exchange } from "./Read.js"
import { closedPort, listen, silent } from "./ScriptedPeer.js"
import { caPem, servers, streamHeader } from "./Servers.js"

const s = servers()
const connectorLayer = NodeConnector.layer({ connectTimeout: 2000 })

const connect = (route: Route.Route) =>
  Effect.gen(function*() {
    const connector = yield* Connector.Connector
    return yield* connector.connect(route)
  }).pipe(Effect.provide(connectorLayer))

const failure = (route: Route.Route) => Effect.flip(connect(route))

const connectWithin = (ms: number, route: Route.Route) =>
  Effect.gen(function*() {
    const connector = yield* Connector.Connector
    return yield* connector.connect(route)
  }).pipe(Effect.provide(NodeConnector.layer({ connectTimeout: ms })))

const credentials = (user: string, password: string) => ({ username: user, password: Redacted.make(password) })

const tinyproxy = (auth?: { readonly user: string; readonly password: string }): Route.Proxy => ({
  _tag: "HttpConnect",
  host: "127.0.0.1",
  port: auth === undefined ? s.tinyproxy.open : s.tinyproxy.auth,
  credentials: auth === undefined ? undefined : credentials(auth.user, auth.password)
})

const microsocks = (auth?: { readonly user: string; readonly password: string }): Route.Proxy => ({
  _tag: "Socks5",
  host: "127.0.0.1",
  port: auth === undefined ? s.microsocks.open : s.microsocks.auth,
  credentials: auth === undefined ? undefined : credentials(auth.user, auth.password)
})

/** Opens an XMPP stream on the connection and returns the features Prosody sends. */
const features = (route: Route.Route) =>
  Effect.gen(function*() {
    const connection = yield* connect(route)
    const received = yield* exchange(connection, streamHeader(s.domain), "</stream:features>")
    return { connection, received }
  })

const prosodyPlain = (proxies: ReadonlyArray<Route.Proxy>, host = "127.0.0.1") =>
  Route.make(host, s.prosody.c2s, { proxies })

describe("NodeConnector through real proxies", () => {
  it.live("tinyproxy without auth: CONNECT to Prosody, stream features come back", () =>
    Effect.gen(function*() {
      const { received } = yield* features(prosodyPlain([tinyproxy()]))
      assert.include(received, "<stream:features")
      assert.include(received, "urn:ietf:params:xml:ns:xmpp-tls")
    }))

  it.live("tinyproxy with Basic auth: right credentials work", () =>
    Effect.gen(function*() {
      const { received } = yield* features(prosodyPlain([tinyproxy({ user: s.tinyproxy.user, password: s.tinyproxy.password })]))
      assert.include(received, "<stream:features")
    }))

  it.live("tinyproxy with Basic auth: missing credentials are ProxyError AuthRequired 407, wrong ones AuthRequired 401", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Route.Proxy, number]> = [
        [{ ...tinyproxy(), port: s.tinyproxy.auth }, 407],
        [tinyproxy({ user: s.tinyproxy.user, password: "Wr0ng-Pa55" }), 401],
        [tinyproxy({ user: "", password: "" }), 401]
      ]
      for (const [proxy, status] of cases) {
        const error = yield* failure(prosodyPlain([proxy]))
        assert.isTrue(error._tag === "ProxyError" && error.reason === "AuthRequired" && error.status === status, error.message)
        assert.deepStrictEqual(error.hop, { index: 1, kind: "HttpConnect", host: "127.0.0.1", port: s.tinyproxy.auth })
        assert.notInclude(`${error.message} ${JSON.stringify(error)} ${String(error)}`, "Wr0ng-Pa55")
      }
    }))

  it.live("tinyproxy to a refused target port: ProxyError Refused with the proxy's 5xx status", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.closedPort, { proxies: [tinyproxy()] }))
      assert.isTrue(error._tag === "ProxyError" && error.reason === "Refused", error.message)
      assert.isTrue(error._tag === "ProxyError" && error.status !== undefined && error.status >= 500, error.message)
    }))

  it.live("tinyproxy to a port it does not allow: ProxyError Refused with 403", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const error = yield* failure(Route.make("127.0.0.1", port, { proxies: [tinyproxy()] }))
      assert.isTrue(error._tag === "ProxyError" && error.reason === "Refused" && error.status === 403, error.message)
    }))

  it.live("microsocks without auth: CONNECT by domain name (the proxy resolves localhost)", () =>
    Effect.gen(function*() {
      const { received } = yield* features(prosodyPlain([microsocks()], "localhost"))
      assert.include(received, "<stream:features")
    }))

  it.live("microsocks with user/pass: right credentials work", () =>
    Effect.gen(function*() {
      const { received } = yield* features(prosodyPlain([microsocks({ user: s.microsocks.user, password: s.microsocks.password })], "localhost"))
      assert.include(received, "<stream:features")
    }))

  it.live("microsocks with user/pass: a wrong password is ProxyError AuthFailed, none offered is NoAcceptableMethods", () =>
    Effect.gen(function*() {
      const wrong = yield* failure(prosodyPlain([microsocks({ user: s.microsocks.user, password: "wrong" })]))
      assert.isTrue(wrong._tag === "ProxyError" && wrong.reason === "AuthFailed", wrong.message)
      assert.deepStrictEqual(wrong.hop, { index: 1, kind: "Socks5", host: "127.0.0.1", port: s.microsocks.auth })
      const none = yield* failure(prosodyPlain([{ ...microsocks(), port: s.microsocks.auth }]))
      assert.isTrue(none._tag === "ProxyError" && none.reason === "NoAcceptableMethods", none.message)
    }))

  it.live("microsocks to a refused target port: ProxyError with the SOCKS5 reply code", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.closedPort, { proxies: [microsocks()] }))
      assert.isTrue(error._tag === "ProxyError" && error.reason === "ConnectionRefused" && error.replyCode === 5, error.message)
    }))

  it.live("a refused proxy port is ConnectError Refused on hop 0", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const error = yield* failure(prosodyPlain([{ ...tinyproxy(), port }]))
      assert.isTrue(error._tag === "ConnectError" && error.reason === "Refused", error.message)
      assert.deepStrictEqual(error.hop, { index: 0, kind: "Direct", host: "127.0.0.1", port })
    }))

  it.live("two hops, SOCKS5 then HTTP CONNECT, both authenticated, to Prosody", () =>
    Effect.gen(function*() {
      const { received } = yield* features(prosodyPlain([
        microsocks({ user: s.microsocks.user, password: s.microsocks.password }),
        tinyproxy({ user: s.tinyproxy.user, password: s.tinyproxy.password })
      ]))
      assert.include(received, "<stream:features")
    }))

  it.live("two hops, then direct TLS to Prosody 25223 inside the tunnel, verified against the test CA", () =>
    Effect.gen(function*() {
      const { connection, received } = yield* features(Route.make("127.0.0.1", s.prosody.c2sDirectTls, {
        proxies: [microsocks(), tinyproxy()],
        tls: { servername: "localhost", ca: caPem(s) }
      }))
      assert.include(received, "<stream:features")
      assert.isTrue(Option.isSome(connection.tls))
    }))

  it.live("an error in the second hop names the second hop", () =>
    Effect.gen(function*() {
      const error = yield* failure(prosodyPlain([microsocks(), tinyproxy({ user: s.tinyproxy.user, password: "wrong" })]))
      assert.isTrue(error._tag === "ProxyError" && error.reason === "AuthRequired", error.message)
      assert.deepStrictEqual(error.hop, { index: 2, kind: "HttpConnect", host: "127.0.0.1", port: s.tinyproxy.auth })
    }))

  it.live("through tinyproxy, TLS to a certificate for another name: TlsError HostnameMismatch on the TLS hop", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.wrongName.tls, { proxies: [tinyproxy()], tls: { servername: "localhost", ca: caPem(s) } }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "HostnameMismatch", error.message)
      assert.deepStrictEqual(error.hop, { index: 2, kind: "Tls", host: "127.0.0.1", port: s.wrongName.tls })
    }))

  it.live("through microsocks, TLS to an untrusted certificate: TlsError CertificateInvalid", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.untrusted.https, { proxies: [microsocks()], tls: { servername: "localhost", ca: caPem(s) } }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "CertificateInvalid", error.message)
    }))

  it.live("through microsocks to a silent scripted peer: TlsError TimedOut within the timeout", () =>
    Effect.gen(function*() {
      const port = yield* silent
      const start = performance.now()
      const error = yield* Effect.flip(connectWithin(300, Route.make("127.0.0.1", port, { proxies: [microsocks()], tls: { ca: caPem(s) } })))
      assert.isTrue(error._tag === "TlsError" && error.reason === "TimedOut", error.message)
      assert.isBelow(performance.now() - start, 1500)
    }))

  it.live("through microsocks to a scripted peer that speaks garbage: TlsError HandshakeFailed", () =>
    Effect.gen(function*() {
      const port = yield* listen((socket) => socket.once("data", () => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n")))
      const error = yield* failure(Route.make("127.0.0.1", port, { proxies: [microsocks()], tls: { ca: caPem(s) } }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "HandshakeFailed", error.message)
    }))
})
