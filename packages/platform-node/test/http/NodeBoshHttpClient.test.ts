/**
 * The undici BOSH layer against a scripted loopback HTTP server: what each
 * mode does with connections, reason phrases, status errors, forwarding
 * proxies and connect failures. The real-peer matrix is in
 * BoshHttpInterop.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { BoshHttpConfig, BoshHttpExchange, type Connector, type HttpError } from "@xmpp-core/client"
import { Deferred, Effect, Exit, Fiber, Option, Redacted } from "effect"
import type * as Http from "node:http"
import * as ChildProcess from "node:child_process"
import * as Net from "node:net"
import { fileURLToPath } from "node:url"
import { NodeBoshHttpClient } from "../../src/bosh.js"
import * as LocalHttpServer from "./LocalHttpServer.js"

const body = "<body rid='1' xmlns='http://jabber.org/protocol/httpbind'/>"
const packageDir = fileURLToPath(new URL("../..", import.meta.url))

const config = (input: Record<string, unknown>) => BoshHttpConfig.decode(input)

const postWith = (cfg: BoshHttpConfig.BoshHttpConfig, payload = body) =>
  BoshHttpExchange.post(cfg, payload).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))

/** The HttpError an exchange failed with (fails the test on any other error). */
const failure = <A, R>(effect: Effect.Effect<A, HttpError | Connector.ConnectFailure, R>) =>
  Effect.map(Effect.flip(effect), (error) => {
    if (error._tag !== "HttpError") assert.fail(`expected an HttpError, got ${error._tag}: ${error.message}`)
    return error
  })

/** Parks the first request until a second one arrives, then answers both. */
const holdFirstUntilSecond = (): LocalHttpServer.Handler => {
  let parked: Http.ServerResponse | undefined
  return (_request, response) => {
    if (parked === undefined) {
      parked = response
      return
    }
    LocalHttpServer.answer(200, "OK", "<body n='2'/>")(_request, response)
    LocalHttpServer.answer(200, "OK", "<body n='1'/>")(_request, parked)
    parked = undefined
  }
}

/** A port nothing listens on. */
const closedPort = Effect.callback<number>((resume) => {
  const probe = Net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address()
    const port = address !== null && typeof address !== "string" ? address.port : 1
    probe.close(() => resume(Effect.succeed(port)))
  })
})

describe("NodeBoshHttpClient", () => {
  it.live("exposes ejabberd-style conditions in the reason phrase of a 200, ignoring a forged header", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make((_request, response) => {
        response.writeHead(200, "policy-violation", { "x-xmpp-core-reason-phrase": "forged" })
        response.end("<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>")
      })
      const answer = yield* postWith(yield* config({ url: server.url }))
      assert.strictEqual(answer.status, 200)
      assert.deepStrictEqual(answer.reasonPhrase, Option.some("policy-violation"))
      assert.include(BoshHttpExchange.text(answer), "type='terminate'")
      assert.strictEqual(server.requests[0]?.headers["content-type"], "text/xml; charset=utf-8")
      assert.strictEqual(server.requests[0]?.body, body)
      // no trace context leaks to the manager (see BoshHttpTracing)
      assert.isUndefined(server.requests[0]?.headers.traceparent)
      assert.isUndefined(server.requests[0]?.headers.b3)
    }))

  it.live("an empty reason phrase is None", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make(LocalHttpServer.answer(200, ""))
      const answer = yield* postWith(yield* config({ url: server.url }))
      assert.deepStrictEqual(answer.reasonPhrase, Option.none())
    }))

  it.live("a non-2xx status from the connection manager is an answer, with its reason phrase (XEP-0124 gives 404 a meaning)", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make(LocalHttpServer.answer(404, "Not Found"))
      const answer = yield* postWith(yield* config({ url: server.url }))
      assert.strictEqual(answer.status, 404)
      assert.deepStrictEqual(answer.reasonPhrase, Option.some("Not Found"))
    }))

  // undici may open the second pooled connection before it has marked the
  // first one free again, so the bound is hold + 1 connections, not one.
  it.live("keep-alive reuses its hold + 1 connections for sequential requests", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make(LocalHttpServer.answer(200, "OK"))
      const cfg = yield* config({ url: server.url, mode: "keep-alive" })
      yield* Effect.gen(function*() {
        for (let i = 0; i < 20; i++) yield* BoshHttpExchange.post(cfg, body)
      }).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      assert.strictEqual(server.requests.length, 20)
      assert.isAtMost(server.connections(), 2)
    }))

  it.live("close opens a new connection for every request", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make(LocalHttpServer.answer(200, "OK"))
      const cfg = yield* config({ url: server.url, mode: "close" })
      yield* Effect.gen(function*() {
        for (let i = 0; i < 3; i++) yield* BoshHttpExchange.post(cfg, body)
      }).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      assert.strictEqual(server.requests.length, 3)
      assert.strictEqual(server.connections(), 3)
    }))

  it.live("keep-alive with hold=1 keeps a second request moving while the first is held (two connections)", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make(holdFirstUntilSecond())
      const cfg = yield* config({ url: server.url, mode: "keep-alive", hold: 1 })
      const answers = yield* Effect.all(
        [BoshHttpExchange.post(cfg, "<body rid='1'/>"), BoshHttpExchange.post(cfg, "<body rid='2'/>")],
        { concurrency: 2 }
      ).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      assert.deepStrictEqual(answers.map(BoshHttpExchange.text).sort(), ["<body n='1'/>", "<body n='2'/>"])
      assert.strictEqual(server.connections(), 2)
    }))

  it.live("pipelining writes the second request on the same connection before the first is answered", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make(holdFirstUntilSecond())
      const cfg = yield* config({ url: server.url, mode: "pipelining", hold: 1 })
      const answers = yield* Effect.all(
        [BoshHttpExchange.post(cfg, "<body rid='1'/>"), BoshHttpExchange.post(cfg, "<body rid='2'/>")],
        { concurrency: 2 }
      ).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      assert.strictEqual(answers.length, 2)
      assert.strictEqual(server.connections(), 1)
      assert.strictEqual(server.requests.length, 2)
    }))

  it.live("an http:// manager behind a proxy gets an absolute URI and Basic credentials", () =>
    Effect.gen(function*() {
      const proxy = yield* LocalHttpServer.make(LocalHttpServer.answer(200, "OK"))
      const cfg = yield* config({
        url: "http://manager.test:5280/http-bind",
        proxy: { url: `http://127.0.0.1:${proxy.port}`, username: "proxyuser", password: "proxypass" }
      })
      yield* postWith(cfg)
      const seen = proxy.requests[0]
      assert.strictEqual(seen?.target, "http://manager.test:5280/http-bind")
      assert.strictEqual(seen?.headers.host, "manager.test:5280")
      assert.strictEqual(
        seen?.headers["proxy-authorization"],
        `Basic ${Buffer.from("proxyuser:proxypass").toString("base64")}`
      )
      assert.isTrue(Redacted.isRedacted(cfg.proxy?.password))
    }))

  it.live("a 407 from a forwarding proxy is ProxyAuthenticationRequired on the proxy hop", () =>
    Effect.gen(function*() {
      const proxy = yield* LocalHttpServer.make(LocalHttpServer.answer(407, "Proxy Authentication Required"))
      const error = yield* failure(postWith(
        yield* config({ url: "http://manager.test/http-bind", proxy: { url: `http://127.0.0.1:${proxy.port}` } })
      ))
      assert.strictEqual(error.reason, "ProxyAuthenticationRequired")
      assert.strictEqual(error.hop, "proxy")
      assert.strictEqual(error.status, 407)
    }))

  it.live("a refused connection is the Connector's ConnectError, naming the hop that refused", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const direct = yield* Effect.flip(postWith(yield* config({ url: `http://127.0.0.1:${port}/http-bind` })))
      assert.strictEqual(direct._tag, "ConnectError")
      if (direct._tag !== "ConnectError") return
      assert.strictEqual(direct.reason, "Refused")
      assert.deepStrictEqual([direct.hop.kind, direct.hop.port], ["Direct", port])
      const proxied = yield* Effect.flip(postWith(
        yield* config({ url: "https://manager.test/http-bind", proxy: { url: `http://127.0.0.1:${port}` } })
      ))
      assert.strictEqual(proxied._tag, "ConnectError")
      if (proxied._tag !== "ConnectError") return
      assert.strictEqual(proxied.reason, "Refused")
      // the first hop is the TCP connection to the proxy
      assert.deepStrictEqual([proxied.hop.index, proxied.hop.port], [0, port])
    }))

  // The interceptor's deadline (a native timer) enforces the timeout, so this waits 200 ms of real time.
  it.live("an exchange that outlives the timeout is a typed Timeout (the interceptor's deadline)", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make(() => {
        // never answers
      })
      const started = performance.now()
      const error = yield* failure(postWith(yield* config({ url: server.url, timeout: 200 })))
      const elapsed = performance.now() - started
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(error.hop, "connection-manager")
      assert.isAtLeast(elapsed, 150)
      assert.isBelow(elapsed, 5_000)
    }))
})

describe("NodeBoshHttpClient exchanges", () => {
  it.live("tells RequestWritten once the request is on its connection, before any answer", () =>
    Effect.gen(function*() {
      let parked: Http.ServerResponse | undefined
      const server = yield* LocalHttpServer.make((_request, response) => {
        parked = response
      })
      const cfg = yield* config({ url: server.url })
      const written = yield* Deferred.make<void>()
      const exchange = yield* BoshHttpExchange.post(cfg, body, () => Deferred.doneUnsafe(written, Exit.void)).pipe(
        Effect.provide(NodeBoshHttpClient.layer(cfg)),
        Effect.forkChild
      )
      yield* Deferred.await(written)
      assert.isUndefined(exchange.pollUnsafe())
      while (parked === undefined) yield* Effect.sleep(5)
      LocalHttpServer.answer(200, "OK", "<body n='1'/>")(server.requests[0] ?? { target: "", headers: {}, body: "" }, parked)
      const answer = yield* Fiber.join(exchange)
      assert.strictEqual(BoshHttpExchange.text(answer), "<body n='1'/>")
    }))

  it.live("an interrupted exchange is aborted on its connection, and the next one goes through", () =>
    Effect.gen(function*() {
      const aborted = yield* Deferred.make<void>()
      let first = true
      const server = yield* LocalHttpServer.make((request, response) => {
        if (!first) return LocalHttpServer.answer(200, "OK", "<body n='2'/>")(request, response)
        first = false
        response.on("close", () => Deferred.doneUnsafe(aborted, Exit.void))
      })
      const cfg = yield* config({ url: server.url })
      const answer = yield* Effect.gen(function*() {
        const exchange = yield* Effect.forkChild(BoshHttpExchange.post(cfg, body))
        while (server.requests.length === 0) yield* Effect.sleep(5)
        yield* Fiber.interrupt(exchange)
        yield* Deferred.await(aborted)
        return yield* BoshHttpExchange.post(cfg, body)
      }).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      assert.strictEqual(BoshHttpExchange.text(answer), "<body n='2'/>")
    }))
})

// A BOSH client in a child process (the built package, `dist`, as `./run test`
// builds it first): its request is held by the test's server; it counts every
// timer callback it runs while it waits, but for its own window's.
const idleScript = `
const { createHook, executionAsyncResource } = await import("node:async_hooks")
const { BoshHttpConfig, BoshHttpExchange } = await import("@xmpp-core/client")
const { NodeBoshHttpClient } = await import("@xmpp-core/platform-node/bosh")
const { Effect } = await import("effect")
const cfg = await Effect.runPromise(BoshHttpConfig.decode({ url: process.argv[1], timeout: 30000 }))
Effect.runFork(BoshHttpExchange.post(cfg, "<body rid='1' xmlns='http://jabber.org/protocol/httpbind'/>").pipe(Effect.provide(NodeBoshHttpClient.layer(cfg))))
await new Promise((resolve) => setTimeout(resolve, 300))
const seen = []
let window
const hook = createHook({ before() {
  const resource = executionAsyncResource()
  if (resource !== window && resource?.constructor?.name === "Timeout") seen.push(resource._onTimeout?.name || "anonymous")
} }).enable()
await new Promise((resolve) => { window = setTimeout(resolve, 1600) })
hook.disable()
console.log(JSON.stringify(seen))
process.exit(0)
`

describe("NodeBoshHttpClient idle", () => {
  // undici's headersTimeout ran on its coarse clock: a 499 ms timer firing as
  // long as a request waited, so a held BOSH request woke the process twice a second.
  it.live("a request held by the manager wakes its process by no timer while it waits", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make(() => undefined)
      const output = yield* Effect.callback<{ readonly status: number | null; readonly out: string; readonly err: string }>(
        (resume) => {
          const child = ChildProcess.spawn(process.execPath, ["--input-type=module", "-e", idleScript, "--", server.url], {
            cwd: packageDir,
            stdio: ["ignore", "pipe", "pipe"]
          })
          let out = "", err = ""
          child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")))
          child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")))
          child.on("close", (status) => resume(Effect.succeed({ status, out, err })))
          return Effect.sync(() => child.kill())
        }
      ).pipe(Effect.timeout("20 seconds"))
      assert.strictEqual(output.status, 0, output.err)
      assert.strictEqual(server.requests.length, 1)
      assert.deepStrictEqual(JSON.parse(output.out.trim()), [])
    }))
})

describe("NodeBoshHttpClient limits", () => {
  it.live("an answer larger than maxResponseBytes is ResponseTooLarge, and the next request still works", () =>
    Effect.gen(function*() {
      let size = 10_000
      const server = yield* LocalHttpServer.make((_request, response) => {
        response.writeHead(200, "OK")
        response.end("x".repeat(size))
      })
      const cfg = yield* config({ url: server.url, maxResponseBytes: 4_096 })
      const [error, next] = yield* Effect.gen(function*() {
        const error = yield* failure(BoshHttpExchange.post(cfg, body))
        size = 100
        const next = yield* BoshHttpExchange.post(cfg, body)
        return [error, next] as const
      }).pipe(Effect.provide(NodeBoshHttpClient.layer(cfg)))
      assert.strictEqual(error.reason, "ResponseTooLarge")
      assert.strictEqual(BoshHttpExchange.text(next).length, 100)
    }))

  it.live("a chunked answer (no Content-Length) is counted as it streams and cut at maxResponseBytes", () =>
    Effect.gen(function*() {
      const server = yield* LocalHttpServer.make((_request, response) => {
        response.writeHead(200, "OK")
        for (let i = 0; i < 10; i++) response.write("y".repeat(1_000))
        response.end()
      })
      const small = yield* config({ url: server.url, maxResponseBytes: 4_096 })
      const error = yield* failure(postWith(small))
      assert.strictEqual(error.reason, "ResponseTooLarge")
      const large = yield* config({ url: server.url, maxResponseBytes: 10_000 })
      const answer = yield* postWith(large)
      assert.strictEqual(BoshHttpExchange.text(answer), "y".repeat(10_000))
    }))
})
