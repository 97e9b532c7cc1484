/**
 * The fetch layer, run on Node's own fetch against a loopback server: it
 * carries a BOSH exchange, keeps the reason phrase readable, and refuses
 * what fetch cannot do instead of ignoring it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import * as Http from "node:http"
import { BoshHttpConfig, BoshHttpExchange, FetchBoshHttpClient } from "../../src/index.js"

const serve = (status: number, reasonPhrase: string, answer = true) =>
  Effect.acquireRelease(
    Effect.callback<{ server: Http.Server; url: string }>((resume) => {
      const server = Http.createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          if (!answer) return
          response.writeHead(status, reasonPhrase, { "content-type": "text/xml; charset=utf-8" })
          const traced = request.headers.traceparent !== undefined || request.headers.b3 !== undefined
          response.end(
            `<body xmlns='http://jabber.org/protocol/httpbind'>${Buffer.concat(chunks).length}${traced ? " traced" : ""}</body>`
          )
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        if (address === null || typeof address === "string") return resume(Effect.die("no TCP address"))
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${address.port}/http-bind` }))
      })
    }),
    ({ server }) =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  )

describe("FetchBoshHttpClient", () => {
  it.live("posts a BOSH body (without trace headers) and reads answer and reason phrase", () =>
    Effect.gen(function*() {
      const { url } = yield* serve(200, "remote-stream-error")
      const config = yield* BoshHttpConfig.decode({ url })
      const answer = yield* BoshHttpExchange.post(config, "<body rid='7'/>").pipe(
        Effect.provide(FetchBoshHttpClient.layer(config))
      )
      assert.strictEqual(answer.status, 200)
      assert.deepStrictEqual(answer.reasonPhrase, Option.some("remote-stream-error"))
      assert.strictEqual(BoshHttpExchange.text(answer), "<body xmlns='http://jabber.org/protocol/httpbind'>15</body>")
    }))

  it.live("a 404 from the manager is an answer with its status and reason phrase (the session machine reads it as item-not-found)", () =>
    Effect.gen(function*() {
      const { url } = yield* serve(404, "Not Found")
      const config = yield* BoshHttpConfig.decode({ url })
      const answer = yield* BoshHttpExchange.post(config, "<body/>").pipe(Effect.provide(FetchBoshHttpClient.layer(config)))
      assert.strictEqual(answer.status, 404)
      assert.deepStrictEqual(answer.reasonPhrase, Option.some("Not Found"))
    }))

  it.effect("an answer slower than the timeout is a typed Timeout (Effect timer, TestClock)", () =>
    Effect.gen(function*() {
      const { url } = yield* serve(200, "OK", false)
      const config = yield* BoshHttpConfig.decode({ url, timeout: 30_000 })
      const fiber = yield* Effect.forkChild(Effect.flip(
        BoshHttpExchange.post(config, "<body/>").pipe(Effect.provide(FetchBoshHttpClient.layer(config)))
      ))
      yield* TestClock.adjust("29 seconds")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "HttpError")
      if (error._tag !== "HttpError") return
      assert.strictEqual(error.reason, "Timeout")
    }))

  const refuses = (name: string, input: Record<string, unknown>, field: string) =>
    it.effect(`refuses ${name}`, () =>
      Effect.gen(function*() {
        const config = yield* BoshHttpConfig.decode(input)
        const error = yield* Effect.flip(FetchBoshHttpClient.validate(config))
        assert.strictEqual(error.reason, "UnsupportedByRuntime")
        assert.strictEqual(error.field, field)
      }))

  refuses("mode close", { url: "http://localhost/", mode: "close" }, "mode")
  refuses("mode pipelining", { url: "http://localhost/", mode: "pipelining" }, "mode")
  refuses("a proxy", { url: "http://localhost/", proxy: { url: "http://127.0.0.1:8888" } }, "proxy")
  refuses("a CA", {
    url: "https://localhost/",
    ca: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
  }, "ca")
})
