/**
 * BOSH HTTP round trip to Prosody, per mode, next to bare Node `http` on a
 * kept-alive agent and bare undici, all sending the identical request.
 *
 * The request is one Prosody answers at once, without holding: a `<body/>`
 * naming a session id that does not exist (Prosody answers with a
 * `type='terminate' condition='item-not-found'` body straight away). It
 * creates no state on the server, so thousands of them measure the HTTP
 * path alone. Needs the local servers: `./run servers up`.
 */
import { BoshHttpConfig, BoshHttpExchange } from "@xmpp-core/client"
import { Agent as UndiciAgent } from "@effect/platform-node/Undici"
import { Effect, ManagedRuntime } from "effect"
import * as Http from "node:http"
import * as Net from "node:net"
import { performance } from "node:perf_hooks"
import { report } from "../../../scripts/bench-harness.mjs"
import { benchServers, notRun } from "./BenchServers.js"
import { NodeBoshHttpClient } from "@xmpp-core/platform-node/bosh"

const title = "BOSH HTTP round trip"
const servers = benchServers(title)
const port = servers.prosody.http
const path = servers.prosody.boshPath
const url = `http://127.0.0.1:${port}${path}`

const reachable = await new Promise<boolean>((resolve) => {
  const socket = Net.connect({ host: "127.0.0.1", port }, () => {
    socket.destroy()
    resolve(true)
  })
  socket.once("error", () => resolve(false))
})
if (!reachable) notRun(title, `nothing listens on 127.0.0.1:${port} (Prosody HTTP)`)

const body = "<body rid='4242' sid='no-such-session' xmlns='http://jabber.org/protocol/httpbind'/>"
const headers = { "content-type": BoshHttpExchange.contentType, "content-length": String(Buffer.byteLength(body)) }
const batch = 200

// Bare node:http on a kept-alive agent with one socket: the floor.
const nodeAgent = new Http.Agent({ keepAlive: true, maxSockets: 1 })
const nodeOnce = (agent: Http.Agent) =>
  new Promise<string>((resolve, reject) => {
    const request = Http.request({ host: "127.0.0.1", port, path, method: "POST", agent, headers }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
      response.on("error", reject)
    })
    request.on("error", reject)
    request.end(body)
  })

// Bare undici, the engine under the Effect client.
const undiciAgent = new UndiciAgent({ connections: 2 })
const undiciOnce = async () => {
  const response = await undiciAgent.request({ origin: `http://127.0.0.1:${port}`, path, method: "POST", headers, body })
  return response.body.text()
}

const sample = await nodeOnce(nodeAgent)
if (!sample.includes("<body")) notRun(title, `Prosody answered something that is not a BOSH body: ${sample.slice(0, 200)}`)

const runBatch = (once: () => Promise<unknown>) => async () => {
  for (let i = 0; i < batch; i++) await once()
}

// The machine may be shared (other processes, and Prosody itself compete for
// the CPU), so every contender runs once per round, interleaved, and the
// keep-alive ratio is taken per round: load swings hit both sides alike.
interface Contender {
  readonly label: string
  readonly run: () => Promise<unknown>
  readonly samples: Array<number>
}
const contender = (label: string, run: () => Promise<unknown>): Contender => ({ label, run, samples: [] })

const runtimes = await Promise.all(
  (["close", "keep-alive", "pipelining"] as const).map(async (mode) => {
    const config = await Effect.runPromise(BoshHttpConfig.decode({ url, mode }))
    const runtime = ManagedRuntime.make(NodeBoshHttpClient.layer(config))
    const loop = Effect.gen(function*() {
      for (let i = 0; i < batch; i++) yield* BoshHttpExchange.post(config, body)
    })
    return { mode, runtime, run: () => runtime.runPromise(loop) }
  })
)
const byMode = (mode: string) => {
  const found = runtimes.find((r) => r.mode === mode)
  if (found === undefined) throw new Error(`no runtime for ${mode}`)
  return found.run
}

const bare = contender("bare node:http, kept-alive agent (1 socket)", runBatch(() => nodeOnce(nodeAgent)))
const bareClose = contender(
  "bare node:http, a new connection per request",
  runBatch(() => nodeOnce(new Http.Agent({ keepAlive: false })))
)
const undici = contender("bare undici Agent (kept alive)", runBatch(undiciOnce))
const close = contender("NodeBoshHttpClient mode=close", byMode("close"))
const keepAlive = contender("NodeBoshHttpClient mode=keep-alive", byMode("keep-alive"))
const pipelining = contender("NodeBoshHttpClient mode=pipelining (sequential: one request in flight)", byMode("pipelining"))
const contenders = [bare, keepAlive, undici, pipelining, bareClose, close]

const rounds = 11
for (let round = -2; round < rounds; round++) {
  for (const c of contenders) {
    const start = performance.now()
    await c.run()
    const elapsedNs = (performance.now() - start) * 1e6
    if (round >= 0) c.samples.push(elapsedNs / batch)
  }
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}
const ratios = (a: Contender, b: Contender) => a.samples.map((value, i) => value / (b.samples[i] ?? Number.NaN))
const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`

report(
  `BOSH HTTP round trip to Prosody ${url}: per request, ${batch} sequential requests per round, ${rounds} interleaved rounds` +
    ` (a <body/> with an unknown sid, which Prosody answers at once with a terminate body)`,
  [
    ...contenders.map((c): [string, string] => [
      c.label,
      `median ${us(median(c.samples))}, best ${us(Math.min(...c.samples))}`
    ]),
    ["keep-alive ÷ bare node:http kept-alive, median of per-round ratios (target ≤ 1.30)", median(ratios(keepAlive, bare)).toFixed(2)],
    ["keep-alive ÷ bare node:http kept-alive, best ÷ best", (Math.min(...keepAlive.samples) / Math.min(...bare.samples)).toFixed(2)],
    ["keep-alive ÷ bare undici, median of per-round ratios", median(ratios(keepAlive, undici)).toFixed(2)],
    ["close ÷ bare node:http new connection, median of per-round ratios", median(ratios(close, bareClose)).toFixed(2)]
  ]
)
for (const r of runtimes) await r.runtime.dispose()
nodeAgent.destroy()
await undiciAgent.destroy()
