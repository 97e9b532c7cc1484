/**
 * The BOSH HTTP layer against real connection managers (Prosody, ejabberd)
 * and a real proxy (tinyproxy, which closes its client connection after
 * every forwarded response), on loopback. Servers: `./run servers up`.
 *
 * The matrix sends a BOSH session-creation request in every mode, over
 * HTTP and HTTPS (verified against the test CA), directly and through the
 * open and the authenticating proxy.
 */
import { assert, describe, it } from "@effect/vitest"
import { BoshHttpConfig, BoshHttpExchange, FetchBoshHttpClient } from "@xmpp-core/client"
import { Effect, Fiber, Option, Result } from "effect"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import { NodeBoshHttpClient } from "../../src/bosh.js"
import * as TestServers from "./TestServers.js"

const servers = TestServers.load()

type ManagerName = "prosody" | "ejabberd"
type Scheme = "http" | "https"
type Route = "direct" | "open proxy" | "auth proxy"

const managerUrl = (manager: ManagerName, scheme: Scheme) =>
  `${scheme}://localhost:${servers[manager][scheme]}${servers[manager].boshPath}`

const proxyFor = (route: Route) => {
  switch (route) {
    case "direct":
      return {}
    case "open proxy":
      return { proxy: { url: `http://127.0.0.1:${servers.tinyproxy.open}` } }
    case "auth proxy":
      return {
        proxy: {
          url: `http://127.0.0.1:${servers.tinyproxy.auth}`,
          username: servers.tinyproxy.user,
          password: servers.tinyproxy.password
        }
      }
  }
}

let nextRid = 1_000_000 + Math.floor(Math.random() * 1_000_000_000)
const rid = () => nextRid++

/** The XEP-0206 session-creation request, written out by hand. */
const sessionRequest = (requestId: number, options: { readonly wait?: number; readonly hold?: number } = {}) =>
  `<body content='text/xml; charset=utf-8' hold='${options.hold ?? 1}' rid='${requestId}' to='${servers.domain}'` +
  ` ver='1.6' wait='${options.wait ?? 60}' xml:lang='en' xmpp:version='1.0'` +
  ` xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh'/>`

const emptyRequest = (requestId: number, sid: string) =>
  `<body rid='${requestId}' sid='${sid}' xmlns='http://jabber.org/protocol/httpbind'/>`

const sidOf = (body: string): string => {
  const match = /\ssid=['"]([^'"]+)['"]/.exec(body)
  assert.isNotNull(match, `no sid in the session-creation response: ${body}`)
  return match?.[1] ?? ""
}

const config = (input: Record<string, unknown>) =>
  BoshHttpConfig.decode({ ca: servers.caPem, timeout: 15_000, ...input })

const postWith = (cfg: BoshHttpConfig.BoshHttpConfig, body: string) =>
  BoshHttpExchange.post(cfg, body).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))

/** Counts the connections undici opens while `effect` runs (its diagnostics channel). */
const countingConnections = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const state = { count: 0 }
      const listener = () => {
        state.count++
      }
      DiagnosticsChannel.subscribe("undici:client:connected", listener)
      return { state, listener }
    }),
    ({ state }) => Effect.map(effect, (value) => ({ value, connections: state.count })),
    ({ listener }) => Effect.sync(() => DiagnosticsChannel.unsubscribe("undici:client:connected", listener))
  )

const modes = ["close", "keep-alive", "pipelining"] as const
const managers: ReadonlyArray<ManagerName> = ["prosody", "ejabberd"]
const schemes: ReadonlyArray<Scheme> = ["http", "https"]
const routes: ReadonlyArray<Route> = ["direct", "open proxy", "auth proxy"]

describe("BOSH session creation, real managers", () => {
  for (const manager of managers) {
    for (const scheme of schemes) {
      for (const route of routes) {
        for (const mode of modes) {
          it.live(`${manager} ${scheme} ${route} ${mode}`, () =>
            Effect.gen(function*() {
              const cfg = yield* config({ url: managerUrl(manager, scheme), mode, ...proxyFor(route) })
              const answer = yield* postWith(cfg, sessionRequest(rid()))
              assert.strictEqual(answer.status, 200)
              assert.match(BoshHttpExchange.text(answer), /^<body[\s>]/)
              assert.include(BoshHttpExchange.text(answer), "http://jabber.org/protocol/httpbind")
              assert.isNotEmpty(sidOf(BoshHttpExchange.text(answer)))
              // Both managers announce SASL inside the first response.
              assert.include(BoshHttpExchange.text(answer), "urn:ietf:params:xml:ns:xmpp-sasl")
            }))
        }
      }
    }
  }
})

describe("BOSH HTTP failures, real peers", () => {
  const wrongCredentials = (scheme: Scheme) =>
    Effect.gen(function*() {
      const cfg = yield* config({
        url: managerUrl("prosody", scheme),
        proxy: { url: `http://127.0.0.1:${servers.tinyproxy.auth}`, username: servers.tinyproxy.user, password: "wrong" }
      })
      return yield* Effect.flip(postWith(cfg, sessionRequest(rid())))
    })

  // tinyproxy 1.11 answers wrong proxy credentials with 401 and
  // WWW-Authenticate rather than 407.
  it.live("wrong proxy credentials, http:// manager (forwarded): HttpError ProxyAuthenticationRequired on the proxy", () =>
    Effect.gen(function*() {
      const error = yield* wrongCredentials("http")
      assert.strictEqual(error._tag, "HttpError")
      if (error._tag !== "HttpError") return
      assert.strictEqual(error.reason, "ProxyAuthenticationRequired")
      assert.strictEqual(error.hop, "proxy")
      assert.strictEqual(error.status, 401)
      assert.notInclude(error.message, "wrong")
    }))

  it.live("wrong proxy credentials, https:// manager (CONNECT): the Connector's ProxyError AuthRequired", () =>
    Effect.gen(function*() {
      const error = yield* wrongCredentials("https")
      assert.strictEqual(error._tag, "ProxyError")
      if (error._tag !== "ProxyError") return
      assert.strictEqual(error.reason, "AuthRequired")
      assert.strictEqual(error.status, 401)
      assert.deepStrictEqual([error.hop.kind, error.hop.port], ["HttpConnect", servers.tinyproxy.auth])
      assert.notInclude(error.message, "wrong")
    }))

  it.live("without the test CA the manager's certificate is rejected (verification is on)", () =>
    Effect.gen(function*() {
      const cfg = yield* BoshHttpConfig.decode({ url: managerUrl("prosody", "https"), timeout: 15_000 })
      const error = yield* Effect.flip(postWith(cfg, sessionRequest(rid())))
      assert.strictEqual(error._tag, "TlsError")
      if (error._tag !== "TlsError") return
      assert.strictEqual(error.reason, "CertificateInvalid")
      assert.strictEqual(error.hop.kind, "Tls")
    }))

  it.live("a certificate outside the test CA is rejected even with the test CA given, also inside a tunnel", () =>
    Effect.gen(function*() {
      const url = `https://localhost:${servers.untrusted.https}/http-bind`
      const direct = yield* Effect.flip(postWith(yield* config({ url }), sessionRequest(rid())))
      assert.strictEqual(direct._tag, "TlsError")
      const tunnelled = yield* Effect.flip(postWith(
        yield* config({ url, ...proxyFor("open proxy") }),
        sessionRequest(rid())
      ))
      assert.strictEqual(tunnelled._tag, "TlsError")
    }))
})

describe("BOSH HTTP connection use, real managers", () => {
  it.live("keep-alive reuses connections: 10 session creations in a row on Prosody over at most 2 connections", () =>
    Effect.gen(function*() {
      const cfg = yield* config({ url: managerUrl("prosody", "http"), mode: "keep-alive" })
      const { connections } = yield* countingConnections(
        Effect.gen(function*() {
          for (let i = 0; i < 10; i++) yield* BoshHttpExchange.post(cfg, sessionRequest(rid()))
        }).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      )
      assert.isAtLeast(connections, 1)
      assert.isAtMost(connections, 2)
    }))

  it.live("close opens one connection per request: 5 session creations, 5 connections", () =>
    Effect.gen(function*() {
      const cfg = yield* config({ url: managerUrl("prosody", "http"), mode: "close" })
      const { connections } = yield* countingConnections(
        Effect.gen(function*() {
          for (let i = 0; i < 5; i++) yield* BoshHttpExchange.post(cfg, sessionRequest(rid()))
        }).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      )
      assert.strictEqual(connections, 5)
    }))

  it.live("tinyproxy closes its connection after every forwarded response: keep-alive still carries 5 requests in a row", () =>
    Effect.gen(function*() {
      const cfg = yield* config({ url: managerUrl("prosody", "http"), mode: "keep-alive", ...proxyFor("open proxy") })
      const { value: answers, connections } = yield* countingConnections(
        Effect.gen(function*() {
          const answers = []
          for (let i = 0; i < 5; i++) answers.push(yield* BoshHttpExchange.post(cfg, sessionRequest(rid())))
          return answers
        }).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      )
      assert.strictEqual(answers.filter((answer) => answer.status === 200).length, 5)
      // one new connection per request: the proxy, not the layer, decides
      assert.strictEqual(connections, 5)
    }))

  // Real time here is the manager's own hold timer (wait='2').
  for (const manager of managers) {
    it.live(`${manager}: a held request does not block the next one (keep-alive, hold=1, wait=2 s)`, () =>
      Effect.gen(function*() {
        const cfg = yield* config({ url: managerUrl(manager, "http"), mode: "keep-alive", hold: 1 })
        const first = rid()
        const { value: [held, second, elapsedMs], connections } = yield* countingConnections(
          Effect.gen(function*() {
            const created = yield* BoshHttpExchange.post(cfg, sessionRequest(first, { wait: 2, hold: 1 }))
            const sid = sidOf(BoshHttpExchange.text(created))
            const started = performance.now()
            // rid+1 is held by the manager; rid+2 arriving makes it answer rid+1
            // at once (hold=1) and hold rid+2 instead, for at most wait.
            const heldFiber = yield* Effect.forkChild(
              Effect.map(BoshHttpExchange.post(cfg, emptyRequest(first + 1, sid)), (answer) => ({
                answer,
                atMs: performance.now() - started
              }))
            )
            yield* Effect.sleep("200 millis")
            const secondAnswer = yield* BoshHttpExchange.post(cfg, emptyRequest(first + 2, sid))
            const heldAnswer = yield* Fiber.join(heldFiber)
            return [heldAnswer, secondAnswer, performance.now() - started] as const
          }).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
        )
        assert.strictEqual(held.answer.status, 200)
        assert.strictEqual(second.status, 200)
        // rid+1 came back well before the 2 s hold expired: released by rid+2.
        assert.isBelow(held.atMs, 1_500, `rid+1 was answered after ${held.atMs} ms`)
        assert.isAtLeast(elapsedMs, 200)
        assert.strictEqual(connections, 2)
        assert.isTrue(Option.isSome(held.answer.reasonPhrase))
      }))
  }
})

describe("HTTP pipelining, real managers", () => {
  // Two independent session creations written back to back on one connection:
  // a manager that supports pipelining answers both, in order.
  const pipelinedPair = (manager: ManagerName, timeout: number) =>
    Effect.gen(function*() {
      const cfg = yield* config({ url: managerUrl(manager, "http"), mode: "pipelining", hold: 1, timeout })
      return yield* countingConnections(
        Effect.all(
          [
            Effect.result(BoshHttpExchange.post(cfg, sessionRequest(rid()))),
            Effect.result(BoshHttpExchange.post(cfg, sessionRequest(rid())))
          ],
          { concurrency: 2 }
        ).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      )
    })

  it.live("prosody answers two pipelined requests on one connection", () =>
    Effect.gen(function*() {
      const { value: [first, second], connections } = yield* pipelinedPair("prosody", 10_000)
      assert.strictEqual(connections, 1)
      assert.isTrue(Result.isSuccess(first) && Result.isSuccess(second), `${String(first)} / ${String(second)}`)
    }))
})

describe("HTTP pipelining on ejabberd (observed breakage)", () => {
  // Observed on ejabberd 23.01: when two pipelined requests reach it in one
  // read, it answers the first with "400 XML is not well-formed" and never
  // answers the second (here: a typed Timeout after 1 s). When they arrive in
  // separate reads both succeed, so whether a pair breaks depends on TCP
  // timing (about half of the pairs here). The test sends pairs until one
  // breaks (at most 30) and checks every pair did one of those two things.
  it.live("two pipelined requests: either both answered, or 400 + never answered", () =>
    Effect.gen(function*() {
      const cfg = yield* config({ url: managerUrl("ejabberd", "http"), mode: "pipelining", hold: 1, timeout: 1_000 })
      let broken = 0
      for (let attempt = 0; attempt < 30 && broken === 0; attempt++) {
        const { value: [first, second], connections } = yield* countingConnections(
          Effect.all(
            [
              Effect.result(BoshHttpExchange.post(cfg, sessionRequest(rid()))),
              Effect.result(BoshHttpExchange.post(cfg, sessionRequest(rid())))
            ],
            { concurrency: 2 }
          ).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
        )
        assert.strictEqual(connections, 1)
        if (Result.isSuccess(first) && first.success.status === 200 && Result.isSuccess(second)) continue
        // Broken: the first is answered 400 (an answer the session machine reads as bad-request), the second never.
        assert.isTrue(Result.isSuccess(first) && Result.isFailure(second), "a pair broke some other way")
        if (Result.isSuccess(first) && Result.isFailure(second)) {
          assert.strictEqual(first.success.status, 400)
          assert.deepStrictEqual(first.success.reasonPhrase, Option.some("XML is not well-formed"))
          assert.strictEqual(second.failure._tag, "HttpError")
          if (second.failure._tag !== "HttpError") return
          assert.strictEqual(second.failure.reason, "Timeout")
          broken++
        }
      }
      assert.strictEqual(broken, 1, "ejabberd answered 30 pipelined pairs correctly: the documented breakage is gone")
    }), 60_000)
})

describe("reason phrases from real managers", () => {
  const unknownSid = (requestId: number) =>
    `<body rid='${requestId}' sid='no-such-session' xmlns='http://jabber.org/protocol/httpbind'/>`

  const layers = {
    undici: (cfg: BoshHttpConfig.BoshHttpConfig) => NodeBoshHttpClient.layer(cfg),
    fetch: (cfg: BoshHttpConfig.BoshHttpConfig) => FetchBoshHttpClient.layer(cfg)
  }

  for (const [name, layerFor] of Object.entries(layers)) {
    it.live(`${name}: ejabberd explains an unknown sid in the reason phrase of a 200; Prosody says OK`, () =>
      Effect.gen(function*() {
        const ejabberd = yield* BoshHttpConfig.decode({ url: managerUrl("ejabberd", "http"), timeout: 15_000 })
        const fromEjabberd = yield* BoshHttpExchange.post(ejabberd, unknownSid(rid())).pipe(
          Effect.provide(layerFor(ejabberd))
        )
        assert.strictEqual(fromEjabberd.status, 200)
        assert.deepStrictEqual(fromEjabberd.reasonPhrase, Option.some("Session ID mismatch"))
        assert.include(BoshHttpExchange.text(fromEjabberd), "condition='item-not-found'")
        const prosody = yield* BoshHttpConfig.decode({ url: managerUrl("prosody", "http"), timeout: 15_000 })
        const fromProsody = yield* BoshHttpExchange.post(prosody, unknownSid(rid())).pipe(
          Effect.provide(layerFor(prosody))
        )
        assert.strictEqual(fromProsody.status, 200)
        assert.deepStrictEqual(fromProsody.reasonPhrase, Option.some("OK"))
        assert.include(BoshHttpExchange.text(fromProsody), "condition='item-not-found'")
      }))
  }
})
