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
import { existsSync, readFileSync } from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { measureAsync, report } from "../../../scripts/bench-harness.mjs"
import { NodeBoshHttpClient } from "../src/index.js"

const statePath = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", ".state", "servers.json")
const notUp = (why: string): never => {
  console.log(`\n## BOSH HTTP round trip: NOT RUN — ${why}. Start the servers with \`./run servers up\`.`)
  process.exit(1)
}
if (!existsSync(statePath)) notUp(`${statePath} is missing`)
const servers: { prosody: { http: number; boshPath: string }; domain: string } = JSON.parse(readFileSync(statePath, "utf8"))
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
if (!reachable) notUp(`nothing listens on 127.0.0.1:${port} (Prosody HTTP)`)

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
if (!sample.includes("<body")) notUp(`Prosody answered something that is not a BOSH body: ${sample.slice(0, 200)}`)

const runBatch = (once: () => Promise<unknown>) => async () => {
  for (let i = 0; i < batch; i++) await once()
}

const rows: Array<[string, string]> = []
const perRequest = (ns: number) => `${(ns / batch / 1000).toFixed(1)} µs`
const options = { iterations: 1, rounds: 7, warmup: 2 }

const bare = await measureAsync(runBatch(() => nodeOnce(nodeAgent)), options)
rows.push(["bare node:http, kept-alive agent (1 socket)", perRequest(bare.medianNs)])
const bareClose = await measureAsync(runBatch(() => nodeOnce(new Http.Agent({ keepAlive: false }))), options)
rows.push(["bare node:http, a new connection per request", perRequest(bareClose.medianNs)])
const undici = await measureAsync(runBatch(undiciOnce), options)
rows.push(["bare undici Agent", perRequest(undici.medianNs)])

const results: Partial<Record<BoshHttpConfig.BoshHttpMode, number>> = {}
for (const mode of ["close", "keep-alive", "pipelining"] as const) {
  const config = await Effect.runPromise(BoshHttpConfig.decode({ url, mode }))
  const runtime = ManagedRuntime.make(NodeBoshHttpClient.layer(config))
  const loop = Effect.gen(function*() {
    for (let i = 0; i < batch; i++) yield* BoshHttpExchange.post(config, body)
  })
  const timing = await measureAsync(() => runtime.runPromise(loop), options)
  results[mode] = timing.medianNs
  rows.push([`NodeBoshHttpClient mode=${mode} (BoshHttpExchange.post)`, perRequest(timing.medianNs)])
  await runtime.dispose()
}
const keepAlive = results["keep-alive"]
if (keepAlive !== undefined) {
  rows.push(["keep-alive ÷ bare node:http kept-alive (target ≤ 1.30)", (keepAlive / bare.medianNs).toFixed(2)])
}
const close = results.close
if (close !== undefined) rows.push(["close ÷ bare node:http new connection", (close / bareClose.medianNs).toFixed(2)])

report(
  `BOSH HTTP round trip to Prosody ${url}, median per request over ${batch} sequential requests (unknown-sid body, answered at once)`,
  rows
)
nodeAgent.destroy()
await undiciAgent.destroy()
