// `./run bench compare`: this project beside the clients people use instead,
// in one run, interleaved, against the project's own Prosody (from
// .state/servers.json). Every measure runs in two rounds, the second in the
// reverse order; each client's measure is its own process, bounded by a
// timeout. Prints the tables and writes bench/results.md.
//
//   ./run bench compare            the full run (about 12 minutes)
//   ./run bench compare --quick    small counts, to check the harness (about 2 minutes)
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { bareNode, cliAfterLogin, spawnJob, workerJob } from "./jobs.mjs"
import { startRelay } from "./relay.mjs"
import { renderResults } from "./report.mjs"
import { ensureGloox, ensureNodePeers, ensureServers } from "./setup.mjs"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..")
const quick = process.argv.includes("--quick")
const say = (line) => process.stderr.write(`» ${line}\n`)
const started = Date.now()
const loadAtStart = loadavg()

// ---- setup: peers, gloox, servers ----
const peers = ["strophe.js", "stanza", "@xmpp/client", "@xmldom/xmldom", "xhr2"]
const peersWhy = ensureNodePeers(root, here, peers)
const gloox = ensureGloox(here)
const { TestServers: Testing } = await import("@xmpp-core/platform-node/testing")
ensureServers(root, Testing.statePath)
const servers = Testing.read()
const prosody = servers.prosody
const versionOf = (name) => {
  try {
    return JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8")).version
  } catch {
    return "not installed"
  }
}
const debVersion = (name) =>
  spawnSync("dpkg-query", ["-W", "-f=${Version}", name], { encoding: "utf8" }).stdout || "not installed"

// ---- the clients ----
const node = (client, variant) => ({ kind: "node", client, variant })
const clients = [
  { id: "project-bosh", label: "this project BOSH keep-alive", transport: "bosh", peer: false, ...node("project", "bosh") },
  { id: "gloox", label: "gloox BOSH PersistentHTTP", transport: "bosh", peer: true, kind: "gloox" },
  { id: "strophe", label: "Strophe.js BOSH", transport: "bosh", peer: true, ...node("strophe", "shipped") },
  { id: "strophe-flush", label: "Strophe.js BOSH + flush()", transport: "bosh", peer: true, ...node("strophe", "flush") },
  { id: "stanza-sm", label: "StanzaJS BOSH SM on", transport: "bosh", peer: true, ...node("stanza", "sm-on") },
  { id: "stanza", label: "StanzaJS BOSH SM off", transport: "bosh", peer: true, ...node("stanza", "sm-off") },
  { id: "project-tcp", label: "this project TCP+STARTTLS", transport: "tcp", peer: false, ...node("project", "tcp") },
  // Like for like with @xmpp/client, which has no stream management.
  { id: "project-tcp-sm-off", label: "this project TCP+STARTTLS, SM off", transport: "tcp", peer: false, ...node("project", "tcp-sm-off") },
  { id: "xmppjs", label: "@xmpp/client TCP+STARTTLS", transport: "tcp", peer: true, ...node("xmppjs", "shipped") },
  { id: "xmppjs-nodelay", label: "@xmpp/client TCP + setNoDelay", transport: "tcp", peer: true, ...node("xmppjs", "nodelay") }
]
/** Why a client cannot run at all (its cells say so), or undefined. */
const unavailable = (client) =>
  client.kind === "gloox" ? gloox.why : client.client !== "project" ? peersWhy : undefined

// ---- the measures ----
const measures = {
  login: { n: quick ? 5 : 20, timeout: 150, relay: true },
  rtt: { n: quick ? 50 : 500, timeout: 150 },
  tput: { n: quick ? 2000 : 10000, seconds: quick ? 10 : 20, timeout: 60 },
  idle: { n: quick ? 20 : 200, seconds: quick ? 5 : 30, timeout: 180, relay: true, boshOnly: true, concurrent: true },
  rss: { n: 0, timeout: 40 }
}

// ---- the servers' CPU (Prosody's process), to see a server-bound figure ----
const prosodyPid = (() => {
  try {
    return Number(readFileSync(join(dirname(Testing.statePath), "run", "prosody.pid"), "utf8").trim())
  } catch {
    return undefined
  }
})()
const ticks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100
const prosodyCpuMs = () => {
  if (prosodyPid === undefined) return undefined
  try {
    const fields = readFileSync(`/proc/${prosodyPid}/stat`, "utf8").split(") ")[1].split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks
  } catch {
    return undefined
  }
}

// ---- one job: one client, one measure, one process with a timeout ----
const runJob = async (client, measureName, relayPort) => {
  const measure = measures[measureName]
  const why = unavailable(client)
  if (why !== undefined) return { error: why }
  const httpPort = relayPort ?? prosody.http
  if (client.kind === "gloox") {
    const extra = measureName === "tput"
      ? ["bob", servers.accounts.bob, String(measure.seconds)]
      : measureName === "idle" ? [String(measure.seconds)] : []
    const args = [measureName, String(measure.n), "127.0.0.1", String(httpPort), prosody.boshPath, servers.domain, "alice",
      servers.accounts.alice, ...extra]
    return spawnJob(gloox.binary, args, measure.timeout)
  }
  return workerJob(servers, {
    client: client.client,
    variant: client.variant,
    measure: measureName,
    n: measure.n,
    seconds: measure.seconds,
    timeout: measure.timeout
  }, httpPort)
}

/** Runs one measure for one client, with the relay (and its counts) when the measure wants them. */
const runCounted = async (client, measureName) => {
  const measure = measures[measureName]
  const relay = measure.relay && client.transport === "bosh" ? await startRelay("127.0.0.1", prosody.http) : undefined
  const cpuBefore = prosodyCpuMs()
  const wallBefore = performance.now()
  const result = await runJob(client, measureName, relay?.port)
  const cpuAfter = prosodyCpuMs()
  if (relay !== undefined && result.error === undefined) {
    if (measureName === "login") result.requests = result.starts.map((s, i) => relay.requestsBetween(s, result.ends[i]))
    if (measureName === "idle") result.idleRequests = relay.requestsBetween(result.idleStart, result.idleEnd)
  }
  if (measureName === "tput" && cpuBefore !== undefined && cpuAfter !== undefined && result.ms !== undefined) {
    result.serverCpuShare = (cpuAfter - cpuBefore) / (performance.now() - wallBefore)
  }
  relay?.close()
  return result
}

// ---- the run ----
const results = {} // results[measure][clientId] = [round1, round2]
for (const measureName of Object.keys(measures)) {
  const measure = measures[measureName]
  const taking = clients.filter((c) => !measure.boshOnly || c.transport === "bosh")
  results[measureName] = Object.fromEntries(taking.map((c) => [c.id, []]))
  for (const round of [0, 1]) {
    const order = round === 0 ? taking : [...taking].reverse()
    say(`${measureName}, round ${round + 1}: ${order.map((c) => c.id).join(", ")}`)
    if (measure.concurrent) {
      // Idle sessions: every client at once, each behind its own counting relay.
      const all = await Promise.all(order.map((c) => runCounted(c, measureName)))
      order.forEach((c, i) => results[measureName][c.id].push(all[i]))
    } else {
      for (const client of order) results[measureName][client.id].push(await runCounted(client, measureName))
    }
  }
}
const extras = { bareNode: [await bareNode(), await bareNode()], cli: [await cliAfterLogin(servers), await cliAfterLogin(servers)] }

const context = {
  date: new Date().toISOString(),
  minutes: (Date.now() - started) / 60000,
  quick,
  nproc: cpus().length,
  load: { start: loadAtStart, end: loadavg() },
  versions: {
    node: process.version,
    prosody: debVersion("prosody"),
    gloox: debVersion("libgloox-dev"),
    "strophe.js": versionOf("strophe.js"),
    stanza: versionOf("stanza"),
    "@xmpp/client": versionOf("@xmpp/client"),
    "@xmldom/xmldom": versionOf("@xmldom/xmldom"),
    xhr2: versionOf("xhr2")
  },
  measures,
  clients,
  extras
}
// The raw figures beside the build, to render the tables again without a run.
mkdirSync(join(here, "build"), { recursive: true })
writeFileSync(join(here, "build", quick ? "last-quick-run.json" : "last-run.json"), JSON.stringify({ results, context }))
const markdown = renderResults(results, context)
process.stdout.write(`${markdown}\n`)
if (!quick) writeFileSync(join(root, "bench", "results.md"), markdown)
say(quick ? "quick run: bench/results.md left as it was" : "wrote bench/results.md")
