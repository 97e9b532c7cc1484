import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import { BoshHttpConfig } from "../../src/index.js"

describe("BoshHttpConfig", () => {
  it.effect("fills in mode keep-alive, hold 1 and a 75 s timeout", () =>
    Effect.gen(function*() {
      const config = yield* BoshHttpConfig.decode({ url: "https://localhost:5281/http-bind" })
      assert.strictEqual(config.mode, "keep-alive")
      assert.strictEqual(config.hold, 1)
      assert.isTrue(Duration.equals(config.timeout, Duration.seconds(75)))
      assert.isUndefined(config.proxy)
      assert.isUndefined(config.ca)
    }))

  it.effect("keeps the proxy password redacted", () =>
    Effect.gen(function*() {
      const config = yield* BoshHttpConfig.decode({
        url: "http://localhost:5280/http-bind",
        proxy: { url: "http://127.0.0.1:8889", username: "proxyuser", password: "proxypass" }
      })
      const password = config.proxy?.password
      assert.isTrue(password !== undefined && Redacted.isRedacted(password))
      assert.notInclude(String(config.proxy?.password), "proxypass")
      assert.strictEqual(password === undefined ? undefined : Redacted.value(password), "proxypass")
    }))

  const rejects = (name: string, input: Record<string, unknown>, field: string) =>
    it.effect(`rejects ${name}`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(BoshHttpConfig.decode(input))
        assert.include(error.message, field)
      }))

  rejects("a non-HTTP URL", { url: "xmpp:localhost" }, "url")
  rejects("an unknown mode", { url: "http://localhost/", mode: "websocket" }, "mode")
  rejects("a negative hold", { url: "http://localhost/", hold: -1 }, "hold")
  rejects("a fractional hold", { url: "http://localhost/", hold: 1.5 }, "hold")
  // The XEP allows 127; the pool of hold + 3 connections is capped here (`PooledHold`).
  rejects("a hold above 16", { url: "http://localhost/", hold: 17 }, "hold")

  it.effect("takes hold 16, the pool's cap", () =>
    Effect.gen(function*() {
      const config = yield* BoshHttpConfig.decode({ url: "http://localhost/", hold: 16 })
      assert.strictEqual(config.hold, 16)
    }))
  rejects("an https proxy URL (only plain HTTP proxies are supported)", {
    url: "http://localhost/",
    proxy: { url: "https://proxy:443" }
  }, "proxy")
  rejects("a CA that is not PEM", { url: "https://localhost/", ca: "not a certificate" }, "ca")

  it("plans connections per mode", () => {
    assert.deepStrictEqual(BoshHttpConfig.connectionPlan({ mode: "close", hold: 1 }), {
      connections: 4,
      requestsPerConnection: 1,
      reuse: false
    })
    assert.deepStrictEqual(BoshHttpConfig.connectionPlan({ mode: "keep-alive", hold: 2 }), {
      connections: 5,
      requestsPerConnection: 1,
      reuse: true
    })
    assert.deepStrictEqual(BoshHttpConfig.connectionPlan({ mode: "pipelining", hold: 1 }), {
      connections: 1,
      requestsPerConnection: 2,
      reuse: true
    })
  })
})
