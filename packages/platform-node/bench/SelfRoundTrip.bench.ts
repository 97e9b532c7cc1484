/**
 * A message to one's own full JID and back, one at a time, as
 * `./run bench compare` measures it (bench/compare/clients/project.mjs):
 * TCP+STARTTLS to Prosody's c2s port and BOSH keep-alive over plain HTTP to
 * Prosody's BOSH port on loopback. Small enough to run in seconds and to
 * CPU-profile:
 *
 *     node packages/platform-node/dist-bench/SelfRoundTrip.bench.js [tcp|bosh|both] [count] [rounds]
 *     node --cpu-prof packages/platform-node/dist-bench/SelfRoundTrip.bench.js bosh 5000 1
 *     HIST=1 TRACE=1 node packages/platform-node/dist-bench/SelfRoundTrip.bench.js bosh 500 1
 *
 * Each round logs in afresh, warms up with 50 messages, then times `count`
 * (default 500); the figures are printed per round, none is asserted.
 */
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Effect, ManagedRuntime, Queue, Schema, Stream } from "effect"
import { performance } from "node:perf_hooks"
import { benchServers, caPem } from "./BenchServers.js"

const state = benchServers("self round trip")
const ca = caPem(state)
type Path = "tcp" | "bosh"

const config = (path: Path) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: `alice@${state.domain}`,
    password: state.accounts.alice,
    ca,
    mechanisms: ["SCRAM-SHA-256"],
    resource: `bench-self-${path}`,
    ...(path === "tcp"
      ? { transport: { _tag: "tcp", host: "127.0.0.1", port: state.prosody.c2s, directTls: false } }
      : {
        // plain-HTTP BOSH on loopback, as in bench/compare
        allowPlaintext: true,
        transport: {
          _tag: "bosh",
          url: `http://127.0.0.1:${state.prosody.http}${state.prosody.boshPath}`,
          mode: "keep-alive"
        }
      })
  })

/** `TRACE=1`: print what goes over the wire (with times) during two round trips, and during the first three slower than 2 ms. */
const trace = process.env["TRACE"] === "1"
const traffic: Array<string> = []
let traceStart = 0
let slowShown = 0

const runtime = ManagedRuntime.make(NodeXmppClient.layerPorts())

const message = (to: string, id: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [id] })]
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN

const selfRoundTrips = (path: Path, count: number) =>
  runtime.runPromise(
    Effect.gen(function*() {
      const client = yield* XmppClient.connect(config(path), trace ? { onTraffic: (direction, xml) => traffic.push(`${(performance.now() - traceStart).toFixed(3)} ${direction} ${xml}`) } : {})
      const own = Jid.format(client.jid)
      const inbox = yield* Queue.unbounded<Element.Element>()
      yield* Effect.forkScoped(
        client.stanzas.pipe(Stream.filter((s) => s.name === "message"), Stream.runForEach((s) => Queue.offer(inbox, s)))
      )
      const times: Array<number> = []
      for (let i = 0; i < count + 50; i++) {
        const start = performance.now()
        traceStart = start
        traffic.length = 0
        yield* client.send(message(own, `self-${i}`))
        yield* Queue.take(inbox)
        const time = performance.now() - start
        if (i >= 50) times.push(time)
        if (trace && i >= 50 && (i < 52 || (time > 2 && slowShown++ < 3))) {
          console.log(`${path} round trip ${i}, ${time.toFixed(3)} ms (ms since its start):\n  ${traffic.join("\n  ")}`)
        }
      }
      yield* client.close
      return times.sort((a, b) => a - b)
    }).pipe(Effect.scoped)
  )

const which = process.argv[2] ?? "both"
const count = Number(process.argv[3] ?? 500)
const rounds = Number(process.argv[4] ?? 3)
const paths: ReadonlyArray<Path> = which === "tcp" || which === "bosh" ? [which] : ["tcp", "bosh"]
console.log(`\n## self round trip (Prosody, ${count} messages per round after 50 warm-ups)`)
for (let round = 1; round <= rounds; round++) {
  for (const path of paths) {
    const times = await selfRoundTrips(path, count)
    const cpu = process.cpuUsage()
    console.log(
      `${path.padEnd(4)} round ${round}: median ${percentile(times, 50).toFixed(3)} ms, p90 ${
        percentile(times, 90).toFixed(3)
      } ms, p99 ${percentile(times, 99).toFixed(3)} ms  (process CPU so far ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms)`
    )
    if (process.env["HIST"] === "1") {
      // `HIST=1`: how the round trips spread (a second mode shows as a bump).
      const edges = [0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, Infinity]
      const counts = edges.map((edge, i) => times.filter((t) => t < edge && t >= (edges[i - 1] ?? 0)).length)
      console.log(`  ${edges.map((edge, i) => `<${edge}: ${counts[i]}`).join("  ")}`)
    }
  }
}
await runtime.dispose()
