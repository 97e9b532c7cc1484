// The memory figures of `./run bench compare` alone, in a minute instead of
// twelve: bare Node, the demo CLI over BOSH after login, and this project's
// client (`clients/project.mjs`) over TCP and BOSH after one login, each in
// its own process, measured exactly as the full run measures them.
// Needs the servers up and the build (`./run check`).
//
//   node bench/compare/rss.mjs [rounds]     (3 rounds unless told; MB RSS per round)
import { bareNode, cliAfterLogin, workerJob } from "./jobs.mjs"

const { TestServers } = await import("@xmpp-core/platform-node/testing")
const servers = TestServers.read()
const rounds = Number(process.argv[2] ?? 3)
const rss = { timeout: 40, measure: "rss", n: 0 }
const jobs = {
  "bare Node": () => bareNode(),
  "demo CLI BOSH": () => cliAfterLogin(servers),
  "project TCP": () => workerJob(servers, { ...rss, client: "project", variant: "tcp" }),
  "project BOSH": () => workerJob(servers, { ...rss, client: "project", variant: "bosh" })
}
const figures = Object.fromEntries(Object.keys(jobs).map((name) => [name, []]))
for (let round = 0; round < rounds; round++) {
  // Every other round in reverse order, as the full run does.
  const names = round % 2 === 0 ? Object.keys(jobs) : Object.keys(jobs).reverse()
  for (const name of names) {
    const result = await jobs[name]()
    figures[name].push(result.rssKiB === undefined ? result.error : Math.round(result.rssKiB / 102.4) / 10)
  }
}
for (const [name, values] of Object.entries(figures)) console.log(`${name.padEnd(14)} ${values.join(" / ")} MB RSS`)
