/**
 * SRV lookup against the real test dnsmasq (its port is in servers.json), then a connection
 * to the first endpoint it names.
 */
import { assert, describe, it } from "@effect/vitest"
import { Connector, ServerLookup } from "@xmpp-core/client"
import { NodeConnector, NodeServerLookup } from "@xmpp-core/platform-node"
import { Effect, Layer, Option } from "effect"
import { exchange } from "./Read.js"
import { caPem, servers, streamHeader } from "./Servers.js"

const s = servers()
const layer = Layer.mergeAll(
  Layer.orDie(NodeServerLookup.layer({ nameServers: [`127.0.0.1:${s.dnsmasq.port}`], timeout: 1000, tries: 1 })),
  NodeConnector.layer({ connectTimeout: 2000 })
)

describe("NodeServerLookup against dnsmasq", () => {
  it.live("orders _xmpps-client and _xmpp-client records by priority", () =>
    Effect.gen(function*() {
      const lookup = yield* ServerLookup.ServerLookup
      const endpoints = yield* lookup.lookup(s.dnsmasq.srvDomain)
      assert.deepStrictEqual(endpoints, [
        { host: "localhost", port: s.prosody.c2sDirectTls, directTls: true },
        { host: "localhost", port: s.prosody.c2s, directTls: false },
        { host: "localhost", port: s.ejabberd.c2s, directTls: false }
      ])
    }).pipe(Effect.provide(layer)))

  it.live("falls back to the domain on 5222 when there are no SRV records", () =>
    Effect.gen(function*() {
      const lookup = yield* ServerLookup.ServerLookup
      assert.deepStrictEqual(yield* lookup.lookup("nosrv.test"), [{ host: "nosrv.test", port: 5222, directTls: false }])
    }).pipe(Effect.provide(layer)))

  it.live("the first endpoint is Prosody's direct TLS port, and it answers", () =>
    Effect.gen(function*() {
      const lookup = yield* ServerLookup.ServerLookup
      const connector = yield* Connector.Connector
      const [first] = yield* lookup.lookup(s.dnsmasq.srvDomain)
      assert.isDefined(first)
      if (first === undefined) return
      // The server's certificate names `localhost`, not example.test: verify against the name it holds.
      const connection = yield* connector.connect(ServerLookup.toRoute(s.domain, first, { ca: caPem(s) }))
      assert.isTrue(Option.isSome(connection.tls))
      const features = yield* exchange(connection, streamHeader(s.domain), "</stream:features>")
      assert.include(features, "<stream:features")
    }).pipe(Effect.provide(layer)))
})
