// The idle measure of `./run bench compare` alone: N BOSH sessions per
// JavaScript client (all clients at once, each behind its own counting
// relay, as the full run does), then S seconds idle; prints the idle rows of
// the table (report.mjs) per client, one line per round.
// Needs the servers up and the build (`./run check`).
//
//   node bench/compare/idle.mjs [sessions] [seconds] [client:variant ...] [--rounds R] [--heap-snapshot DIR]
//
// Clients as in run.mjs: project:bosh (default), strophe:shipped (default),
// strophe:flush, stanza:sm-on, stanza:sm-off. 200 sessions / 30 s unless told.
// --heap-snapshot DIR: each worker writes DIR/<client>-<variant>-<sessions>.heapsnapshot
// after the figures (with the sessions idle, after a GC); run it with 0 sessions
// too for the baseline.
import { mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { workerJob } from "./jobs.mjs"
import { startRelay } from "./relay.mjs"
import { format, rows } from "./report.mjs"

const args = process.argv.slice(2)
const option = (name) => {
  const at = args.indexOf(name)
  if (at < 0) return undefined
  const [, value] = args.splice(at, 2)
  return value
}
const rounds = Number(option("--rounds") ?? 1)
const snapshots = option("--heap-snapshot")
const numbers = args.filter((a) => /^\d+$/.test(a)).map(Number)
const sessions = numbers[0] ?? 200
const seconds = numbers[1] ?? 30
const named = args.filter((a) => a.includes(":")).map((a) => {
  const [client, variant] = a.split(":")
  return { client, variant }
})
const clients = named.length > 0 ? named : [{ client: "project", variant: "bosh" }, { client: "strophe", variant: "shipped" }]
if (snapshots !== undefined) mkdirSync(snapshots, { recursive: true })

const { TestServers } = await import("@xmpp-core/platform-node/testing")
const servers = TestServers.read()
const prosody = servers.prosody

/** One client's idle job behind its own relay, the relay's count added as run.mjs adds it. */
const runOne = async ({ client, variant }) => {
  const relay = await startRelay("127.0.0.1", prosody.http)
  const heapSnapshot = snapshots === undefined
    ? undefined
    : resolve(join(snapshots, `${client}-${variant}-${sessions}.heapsnapshot`))
  const result = await workerJob(servers, {
    client,
    variant,
    measure: "idle",
    n: sessions,
    seconds,
    timeout: 180 + (snapshots === undefined ? 0 : 120),
    heapSnapshot
  }, relay.port)
  if (result.error === undefined) result.idleRequests = relay.requestsBetween(result.idleStart, result.idleEnd)
  relay.close()
  return result
}

const idleRows = rows.filter((row) => row.measure === "idle")
console.log(`${sessions} sessions, ${seconds} s idle, ${rounds} round(s); every other round in reverse order`)
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? clients : [...clients].reverse()
  const results = await Promise.all(order.map(runOne))
  order.forEach(({ client, variant }, i) => {
    const r = results[i]
    console.log(`\n${client}:${variant}, round ${round + 1}`)
    if (r.error !== undefined) return console.log(`  ${r.error}`)
    for (const row of idleRows) {
      let value, note
      try {
        value = row.value(r)
        note = row.note?.(r)
      } catch (error) {
        note = error.message
      }
      console.log(`  ${row.label.replace(/ \(.*$/, "")}: ${format(value)}${note ? ` (${note})` : ""}`)
    }
    const mb = (before, after) => `${format(before / 1024)} → ${format(after / 1024)} MB`
    console.log(`  process: RSS ${mb(r.rssBeforeKiB, r.rssAfterKiB)}, heap used ${mb(r.heapBeforeKiB, r.heapAfterKiB)}` +
      (r.heapTotalBeforeKiB === undefined ? "" : `, heap total ${mb(r.heapTotalBeforeKiB, r.heapTotalAfterKiB)}, external ${mb(r.externalBeforeKiB, r.externalAfterKiB)}`) +
      (r.heapSnapshot ? `; ${r.heapSnapshot}` : ""))
    if (r.heapSpaces !== undefined) {
      const { before } = r.heapSpaces
      for (const moment of ["after", "end"]) {
        const at = r.heapSpaces[moment]
        if (at === undefined) continue
        const grown = Object.keys(at).filter((name) => at[name][0] !== (before[name]?.[0] ?? 0))
        console.log(`  V8 heap spaces ${moment === "after" ? "after the logins" : "at the window's end"}, committed (used) per session, KiB: ${grown.map((name) =>
          `${name} ${format((at[name][0] - (before[name]?.[0] ?? 0)) / r.sessions)} (${format((at[name][1] - (before[name]?.[1] ?? 0)) / r.sessions)})`).join(", ")}`)
      }
      if (r.timerCallbacksByName !== undefined) {
        console.log(`  timer callbacks in the window, by callback: ${Object.entries(r.timerCallbacksByName).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, count]) => `${name} ${count}`).join(", ") || "none"}`)
      }
      if (r.rssEndKiB !== undefined) console.log(`  RSS per session at the window's end: ${format((r.rssEndKiB - r.rssBeforeKiB) / r.sessions)} KiB (JS heap ${format((r.heapEndKiB - r.heapBeforeKiB) / r.sessions)} KiB)`)
    }
  })
}
