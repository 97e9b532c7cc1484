import { assert, describe, it } from "@effect/vitest"
import { ServerLookup } from "@xmpp-core/client"
import { Effect, Layer, Random } from "effect"
import { Dns, Host } from "effect/net"

const srv = (target: string, port: number, priority: number, weight: number) =>
  Dns.makeRecordUnsafe("SRV", { target: Host.domainNameFromStringUnsafe(target), port, priority, weight })

/** The zone the real dnsmasq serves in the interop tests, plus a domain that declines the service. */
const zone = Dns.layerStatic({
  hosts: { "example.test": ["127.0.0.1"], "nosrv.test": ["127.0.0.1"] },
  records: {
    "_xmpp-client._tcp.example.test": [srv("localhost.", 25222, 10, 50), srv("localhost.", 35222, 20, 10)],
    "_xmpps-client._tcp.example.test": [srv("localhost.", 25223, 5, 50)],
    "_xmpp-client._tcp.weighted.test": [srv("a.weighted.test", 5222, 1, 1), srv("b.weighted.test", 5222, 1, 99)],
    "_xmpp-client._tcp.declined.test": [srv(".", 0, 0, 0)]
  }
})

const lookupLayer = ServerLookup.layer.pipe(Layer.provide(Layer.orDie(zone)))

/** A random source that always answers `value` (a fraction in [0, 1)). */
const fixedRandom = (value: number) =>
  Effect.provideService(Random.Random, { nextDoubleUnsafe: () => value, nextIntUnsafe: () => 0 })

describe("ServerLookup", () => {
  it.effect("merges _xmpps-client and _xmpp-client records by priority", () =>
    Effect.gen(function*() {
      const lookup = yield* ServerLookup.ServerLookup
      const endpoints = yield* lookup.lookup("example.test")
      assert.deepStrictEqual(endpoints, [
        { host: "localhost", port: 25223, directTls: true },
        { host: "localhost", port: 25222, directTls: false },
        { host: "localhost", port: 35222, directTls: false }
      ])
    }).pipe(Effect.provide(lookupLayer)))

  it.effect("falls back to the domain on port 5222 without SRV records (RFC 6120 §3.2.1)", () =>
    Effect.gen(function*() {
      const lookup = yield* ServerLookup.ServerLookup
      assert.deepStrictEqual(yield* lookup.lookup("nosrv.test"), [{ host: "nosrv.test", port: 5222, directTls: false }])
    }).pipe(Effect.provide(lookupLayer)))

  it.effect("a single '.' target declines the service: no endpoints, no fallback", () =>
    Effect.gen(function*() {
      const lookup = yield* ServerLookup.ServerLookup
      assert.deepStrictEqual(yield* lookup.lookup("declined.test"), [])
    }).pipe(Effect.provide(lookupLayer)))

  it.effect("weights are drawn from the injected Random", () =>
    Effect.gen(function*() {
      const lookup = yield* ServerLookup.ServerLookup
      // Draw 0.005 * 101 = 0 -> "a" (running sum 1 >= 0); draw 0.5 * 101 = 50 -> "b" (100 >= 50).
      const low = yield* lookup.lookup("weighted.test").pipe(fixedRandom(0.005))
      const high = yield* lookup.lookup("weighted.test").pipe(fixedRandom(0.5))
      assert.deepStrictEqual(low.map((e) => e.host), ["a.weighted.test", "b.weighted.test"])
      assert.deepStrictEqual(high.map((e) => e.host), ["b.weighted.test", "a.weighted.test"])
    }).pipe(Effect.provide(lookupLayer)))

  it("routes check the certificate against the XMPP domain and offer ALPN xmpp-client on direct TLS", () => {
    const direct = ServerLookup.toRoute("example.test", { host: "localhost", port: 25223, directTls: true }, { ca: "PEM" })
    assert.deepStrictEqual(direct.tls, { servername: "example.test", ca: "PEM", alpnProtocols: ["xmpp-client"] })
    const starttls = ServerLookup.toRoute("example.test", { host: "localhost", port: 25222, directTls: false })
    assert.isUndefined(starttls.tls)
  })
})
