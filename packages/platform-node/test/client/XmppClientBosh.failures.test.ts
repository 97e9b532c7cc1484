/**
 * XmppClient over BOSH when the way to the connection manager is broken or
 * the manager misbehaves: the caller gets the real cause as a typed value,
 * at once and after exactly one attempt when resending cannot help, within
 * the request's deadline when the manager goes quiet, and without reading
 * more than the response limit.
 *
 * Real parts where they exist (the test servers' untrusted and wrong-name
 * TLS ports, a closed port, tinyproxy with credentials); the hostile
 * behaviours come from `HostileManager`, a scripted stand-in, because no
 * real manager misbehaves on demand.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient, XmppClientConfig, type XmppClientError } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Effect, Fiber, Schema } from "effect"
import { TestClock } from "effect/testing"
import { readFileSync } from "node:fs"
import * as HostileManager from "./HostileManager.js"
import { boshConfig, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()
const SLOW = 30_000
const MiB = 1024 * 1024

/** Connects and returns the error with the HTTP attempts made (one "out" per request posted). */
const failedLogin = (configuration: XmppClientConfig.XmppClientConfig) =>
  Effect.gen(function*() {
    let attempts = 0
    const error = yield* XmppClient.connect(configuration, {
      onTraffic: (direction) => {
        if (direction === "out") attempts++
      }
    }).pipe(Effect.flip)
    return { error, attempts }
  })

/** The error chain of a failed connect: XmppClientError → TransportError → the typed cause. */
const causeOf = (error: XmppClientError) => {
  const transport = error.cause
  assert.isTrue(
    typeof transport === "object" && transport !== null && "_tag" in transport && transport._tag === "TransportError",
    `expected a TransportError under ${error.message}`
  )
  const cause = (transport as { readonly cause?: unknown }).cause
  assert.isTrue(typeof cause === "object" && cause !== null && "_tag" in cause, `no typed cause under ${error.message}`)
  return cause as { readonly _tag: string; readonly reason: string; readonly message: string; readonly status?: number }
}

const against = (url: string, overrides: Parameters<typeof boshConfig>[4] = {}) =>
  boshConfig(s, "prosody", "alice", url.startsWith("https") ? "https" : "http", {
    url,
    ...(url.startsWith("https") ? {} : { allowPlaintext: true }),
    ...overrides
  })

const body = "<body xmlns='http://jabber.org/protocol/httpbind' sid='s1' wait='60' requests='2' ver='1.11' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'>"

describe("XmppClient over BOSH: a manager that sends too much", () => {
  it.live.each([true, false])(
    "50 MiB (Content-Length announced: %s): ResponseTooLarge after one request, read no further than the limit",
    (contentLength) =>
      Effect.gen(function*() {
        const hostile = yield* HostileManager.make({ _tag: "Oversized", size: 50 * MiB, contentLength })
        const { error, attempts } = yield* failedLogin(against(hostile.url))
        const cause = causeOf(error)
        assert.strictEqual(error.reason, "ConnectFailed")
        assert.deepStrictEqual([cause._tag, cause.reason], ["HttpError", "ResponseTooLarge"])
        assert.strictEqual(attempts, 1)
        assert.strictEqual(hostile.requests.length, 1)
        // The limit is 4 MiB; what the socket buffers hold on top stays far below the 50 MiB offered.
        assert.isBelow(hostile.bytesWritten(), 20 * MiB)
      }).pipe(Effect.scoped, Effect.provide(ports)),
    SLOW
  )
})

describe("XmppClient over BOSH: a manager that goes quiet", () => {
  // TestClock: the default deadline is 10 s; nothing waits in real time.
  it.effect.each(["silent", "truncated"] as const)(
    "%s answer to session creation: ConnectFailed at the default 10 s deadline, not before, after one request",
    (kind) =>
      Effect.gen(function*() {
        const hostile = yield* HostileManager.make(
          kind === "silent" ? { _tag: "Silent" } : { _tag: "Truncated", body: `${body}</body>` }
        )
        const login = yield* Effect.forkChild(failedLogin(against(hostile.url)))
        yield* hostile.firstRequest
        yield* TestClock.adjust("9999 millis")
        assert.isUndefined(login.pollUnsafe(), "gave up before the deadline")
        yield* TestClock.adjust("1 millis")
        const { error, attempts } = yield* Fiber.join(login)
        assert.strictEqual(error.reason, "ConnectFailed")
        assert.strictEqual(error.condition, "connection-manager-unreachable")
        assert.include(error.message, "no answer to the session creation request within 10 s")
        assert.strictEqual(attempts, 1)
        assert.strictEqual(hostile.requests.length, 1)
      }).pipe(Effect.scoped, Effect.provide(ports)),
    SLOW
  )

  it.live("the deadline is a setting: requestTimeout 300 ms ends a silent creation in real time", () =>
    Effect.gen(function*() {
      const hostile = yield* HostileManager.make({ _tag: "Silent" })
      const { error } = yield* failedLogin(against(hostile.url, { requestTimeout: 300 }))
      assert.strictEqual(error.condition, "connection-manager-unreachable")
      assert.include(error.message, "within 0.3 s")
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
})

describe("XmppClient over BOSH: a manager that answers garbage", () => {
  it.live("invalid XML in a 200: ConnectFailed invalid-response with the XmlError, after one request", () =>
    Effect.gen(function*() {
      const hostile = yield* HostileManager.make({ _tag: "Answer", body: `${body}<unclosed></body>` })
      const { error, attempts } = yield* failedLogin(against(hostile.url))
      assert.strictEqual(error.reason, "ConnectFailed")
      assert.strictEqual(error.condition, "invalid-response")
      const bosh = causeOf(error)
      assert.deepStrictEqual([bosh._tag, bosh.reason], ["BoshError", "invalid-response"])
      const xml = (bosh as { readonly cause?: unknown }).cause
      assert.isTrue(typeof xml === "object" && xml !== null && "_tag" in xml && xml._tag === "XmlError")
      assert.strictEqual(attempts, 1)
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
})

/** A TCP configuration to the same place, to compare the wording with. */
const tcpTo = (host: string, port: number, directTls: boolean) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: `alice@${s.domain}`,
    password: s.accounts.alice,
    ca: readFileSync(s.ca, "utf8"),
    transport: { _tag: "tcp", host, port, directTls }
  })

describe("XmppClient over BOSH: what resending cannot mend ends at once, with the cause TCP gives", () => {
  const cases = [
    {
      fault: "an untrusted certificate",
      url: `https://localhost:${s.untrusted.https}/http-bind`,
      tcp: tcpTo("localhost", s.untrusted.https, true),
      cause: ["TlsError", "CertificateInvalid"]
    },
    {
      fault: "a certificate for another name",
      url: `https://localhost:${s.wrongName.tls}/http-bind`,
      tcp: tcpTo("localhost", s.wrongName.tls, true),
      cause: ["TlsError", "HostnameMismatch"]
    },
    {
      fault: "a refused port",
      url: `http://127.0.0.1:${s.closedPort}/http-bind`,
      tcp: tcpTo("127.0.0.1", s.closedPort, false),
      cause: ["ConnectError", "Refused"]
    },
    {
      fault: "an unknown host",
      url: "https://no-such-host.invalid/http-bind",
      tcp: tcpTo("no-such-host.invalid", 5222, false),
      cause: ["ConnectError", "DnsFailed"]
    }
  ] as const

  it.live.each(cases)("$fault: $cause.0 $cause.1 after one attempt, in the TCP route's words", ({ url, tcp, cause }) =>
    Effect.gen(function*() {
      const { error, attempts } = yield* failedLogin(against(url))
      const bosh = causeOf(error)
      assert.strictEqual(error.reason, "ConnectFailed")
      assert.deepStrictEqual<ReadonlyArray<string>>([bosh._tag, bosh.reason], cause)
      assert.strictEqual(attempts, 1)
      assert.strictEqual(error.message, `${url}: ${bosh.message}`)
      const overTcp = causeOf(yield* XmppClient.connect(tcp).pipe(Effect.flip))
      assert.deepStrictEqual([overTcp._tag, overTcp.reason, overTcp.message], [bosh._tag, bosh.reason, bosh.message])
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
})

describe("XmppClient over BOSH: a proxy that wants credentials ends at once", () => {
  it.live.each(["https", "http"] as const)(
    "407 from the proxy (scripted) before an %s manager: typed with the status, one request to the proxy",
    (scheme) =>
      Effect.gen(function*() {
        const proxy = yield* HostileManager.make({ _tag: "ProxyAuthRequired" })
        const { error, attempts } = yield* failedLogin(
          boshConfig(s, "prosody", "alice", scheme, {
            ...(scheme === "http" ? { allowPlaintext: true } : {}),
            proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: proxy.port }]
          })
        )
        const cause = causeOf(error)
        assert.strictEqual(error.reason, "ConnectFailed")
        // https tunnels with CONNECT (the Connector's ProxyError); http forwards the request (an HttpError).
        assert.deepStrictEqual(
          [cause._tag, cause.reason, cause.status],
          scheme === "https" ? ["ProxyError", "AuthRequired", 407] : ["HttpError", "ProxyAuthenticationRequired", 407]
        )
        assert.strictEqual(attempts, 1)
        assert.strictEqual(proxy.requests.length, 1)
        assert.match(proxy.requests[0] ?? "", scheme === "https" ? /^CONNECT / : /^POST http:\/\//)
      }).pipe(Effect.scoped, Effect.provide(ports)),
    SLOW
  )

  it.live("tinyproxy with wrong credentials (it answers 401): ProxyError AuthRequired, one attempt", () =>
    Effect.gen(function*() {
      const { error, attempts } = yield* failedLogin(
        boshConfig(s, "prosody", "alice", "https", {
          proxies: [{
            _tag: "HttpConnect",
            host: "127.0.0.1",
            port: s.tinyproxy.auth,
            credentials: { username: s.tinyproxy.user, password: "wrong" }
          }]
        })
      )
      const cause = causeOf(error)
      assert.deepStrictEqual([cause._tag, cause.reason, cause.status], ["ProxyError", "AuthRequired", 401])
      assert.strictEqual(attempts, 1)
      assert.notInclude(error.message, "wrong")
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
})
