/**
 * Time to open a direct TLS connection to Prosody's 25223 through the Node
 * `Connector` (TCP, then TLS over the open socket, Connection wrapping) versus
 * a bare `tls.connect`. Needs `./run servers up` (reads .state/servers.json).
 */
import { Connector, Route } from "@xmpp-core/client"
import { NodeConnector } from "@xmpp-core/platform-node"
import { Effect, ManagedRuntime } from "effect"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { measureAsync, report } from "../../../scripts/bench-harness.mjs"
import { benchServers, caPem } from "./BenchServers.js"

const state = benchServers("Connect")
const port = state.prosody.c2sDirectTls
const socksPort = state.microsocks.open
const ca = caPem(state)

const bare = () =>
  new Promise<void>((resolve, reject) => {
    const socket = Tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca, ALPNProtocols: ["xmpp-client"] }, () => {
      socket.destroy()
      resolve()
    })
    socket.once("error", reject)
  })

const once = (emitter: Net.Socket, event: string) => new Promise<void>((resolve, reject) => {
  emitter.once(event, () => resolve())
  emitter.once("error", reject)
})

/** SOCKS5 written by hand, then tls.connect on the socket: the floor for the proxied row. */
const bareSocks = async () => {
  const socket = Net.connect({ host: "127.0.0.1", port: socksPort, noDelay: true })
  await once(socket, "connect")
  socket.write(Uint8Array.of(5, 1, 0))
  await once(socket, "data")
  socket.write(Uint8Array.of(5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff))
  await once(socket, "data")
  const secure = Tls.connect({ socket, servername: "localhost", ca, ALPNProtocols: ["xmpp-client"] })
  await once(secure, "secureConnect")
  secure.destroy()
}

const runtime = ManagedRuntime.make(NodeConnector.layer({ connectTimeout: 5000 }))
const viaConnector = (route: Route.Route) => () =>
  runtime.runPromise(Effect.scoped(Effect.gen(function*() {
    const connector = yield* Connector.Connector
    yield* connector.connect(route)
  })))

const direct = Route.make("127.0.0.1", port, { tls: { servername: "localhost", ca } })
const socks = Route.make("127.0.0.1", port, { proxies: [{ _tag: "Socks5", host: "127.0.0.1", port: socksPort }], tls: { servername: "localhost", ca } })

const options = { iterations: 40, rounds: 7, warmup: 1 }
const bareTiming = await measureAsync(bare, options)
const connectorTiming = await measureAsync(viaConnector(direct), options)
const socksTiming = await measureAsync(viaConnector(socks), options)
const bareSocksTiming = await measureAsync(bareSocks, options)
const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`
report("Direct TLS to Prosody 25223 (open, handshake, close), median per connection", [
  ["bare tls.connect", ms(bareTiming.medianNs)],
  ["Connector (TCP + TLS over the socket)", ms(connectorTiming.medianNs)],
  ["Connector through microsocks (SOCKS5 + TLS)", ms(socksTiming.medianNs)],
  ["by hand through microsocks (SOCKS5 + tls.connect)", ms(bareSocksTiming.medianNs)]
])
await runtime.dispose()
