/**
 * A session's connections without undici's `Pool`: requests wait when every
 * connection is busy and go to the first one freed, `destroy` fails the
 * waiting ones, and what an idle session's dispatcher keeps on the heap.
 */
import { assert, describe, it } from "@effect/vitest"
import { BoshHttpConfig } from "@xmpp-core/client"
import * as Undici from "@effect/platform-node/Undici"
import { Effect, Fiber, Scope } from "effect"
import * as Exit from "effect/Exit"
import type * as Http from "node:http"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import { BoshConnections } from "../../src/http/BoshConnections.js"
import * as NodeBoshHttpClient from "../../src/http/NodeBoshHttpClient.js"
import * as LocalHttpServer from "./LocalHttpServer.js"

/** Parks every response until the test answers it. */
const parking = () => {
  const parked: Array<Http.ServerResponse> = []
  const handler: LocalHttpServer.Handler = (_request, response) => {
    parked.push(response)
  }
  const answerNext = () => {
    const response = parked.shift()
    if (response === undefined) return assert.fail("no parked request")
    response.writeHead(200, "OK", { "content-type": "text/xml" })
    response.end("<body/>")
  }
  return { handler, parked, answerNext }
}

const until = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200 && !condition(); i++) yield* Effect.sleep("10 millis")
    assert.isTrue(condition(), "the condition never held")
  })

/** As `NodeBoshHttpClient` uses it: under an `Agent` (which hands it handlers of undici's current API). */
const agentOf = (connections: number) =>
  new Undici.Agent({
    pipelining: 1,
    factory: (origin, options) => new BoshConnections(origin, { ...options, connections })
  })

const post = (dispatcher: Undici.Dispatcher, server: LocalHttpServer.LocalHttpServer) =>
  Effect.promise(() =>
    dispatcher.request({ origin: `http://127.0.0.1:${server.port}`, path: "/http-bind", method: "POST", body: "<body/>" })
      .then(async (response) => ({ status: response.statusCode, text: await response.body.text() }))
  )

describe("BoshConnections", () => {
  it.live("with every connection busy, a request waits and goes to the first connection freed", () =>
    Effect.gen(function*() {
      const script = parking()
      const server = yield* LocalHttpServer.make(script.handler)
      const connections = agentOf(2)
      const answers = yield* Effect.forkChild(
        Effect.all([post(connections, server), post(connections, server), post(connections, server)], { concurrency: "unbounded" })
      )
      yield* until(() => server.requests.length === 2)
      yield* Effect.sleep("50 millis")
      assert.strictEqual(server.requests.length, 2, "the third request waits for a free connection")
      script.answerNext()
      yield* until(() => server.requests.length === 3)
      script.answerNext()
      script.answerNext()
      const all = yield* Fiber.join(answers)
      assert.deepStrictEqual(all.map((a) => a.status), [200, 200, 200])
      assert.strictEqual(server.connections(), 2)
      yield* Effect.promise(() => connections.close())
    }))

  it.live("destroy fails the waiting requests and ends the running ones", () =>
    Effect.gen(function*() {
      const script = parking()
      const server = yield* LocalHttpServer.make(script.handler)
      const connections = agentOf(1)
      const request = (body: string) =>
        connections.request({ origin: `http://127.0.0.1:${server.port}`, path: "/", method: "POST", body }).then(
          () => "answered",
          (error: unknown) => error
        )
      const first = request("a")
      const second = request("b")
      yield* until(() => server.requests.length === 1)
      yield* Effect.promise(() => connections.destroy())
      const [one, two] = yield* Effect.promise(() => Promise.all([first, second]))
      assert.instanceOf(one, Error)
      assert.instanceOf(two, Undici.errors.ClientDestroyedError, "the waiting request fails with the destroy")
      assert.strictEqual(server.requests.length, 1, "the waiting request never went out")
    }))

  // undici's Pool allocated a 2,048-slot request queue (16 KiB) per session:
  // it was the largest object of an idle BOSH session (bench/compare/heap.mjs).
  it.live("a keep-alive session's dispatcher, after its first request, keeps under 10 KiB of heap", () =>
    Effect.gen(function*() {
      V8.setFlagsFromString("--expose-gc")
      const gc: unknown = Vm.runInNewContext("gc")
      if (typeof gc !== "function") return assert.fail("no gc")
      const server = yield* LocalHttpServer.make(LocalHttpServer.answer(200, "OK"))
      const cfg = yield* BoshHttpConfig.decode({ url: server.url, mode: "keep-alive" })
      const count = 40
      const scope = yield* Scope.make()
      const dispatchers: Array<Undici.Dispatcher> = []
      // one first, so what undici loads and compiles once is not counted
      for (let i = 0; i <= count; i++) {
        const dispatcher = yield* Scope.provide(scope)(NodeBoshHttpClient.makeDispatcher(cfg))
        yield* post(dispatcher, server)
        dispatchers.push(dispatcher)
        if (i === 0) {
          gc()
          yield* Effect.sleep("50 millis")
          gc()
        }
      }
      gc()
      yield* Effect.sleep("50 millis")
      gc()
      const heapWith = process.memoryUsage().heapUsed
      yield* Scope.close(scope, Exit.void)
      dispatchers.length = 0
      yield* Effect.sleep("100 millis")
      gc()
      const heapWithout = process.memoryUsage().heapUsed
      const perSession = (heapWith - heapWithout) / (count + 1) / 1024
      assert.isBelow(perSession, 10, `${perSession.toFixed(1)} KiB per session`)
    }))
})
