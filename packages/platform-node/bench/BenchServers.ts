/**
 * The local test servers for the platform-node benchmarks: the project's one
 * description of them (`@xmpp-core/platform-node/testing`). When the file is
 * missing, the benchmark says it was not run and why, and exits non-zero,
 * instead of printing numbers it did not measure.
 */
import { TestServers } from "@xmpp-core/platform-node/testing"
import { existsSync } from "node:fs"

export type BenchServers = TestServers.TestServers

/** Prints why `title` was not run and ends the process. */
export const notRun = (title: string, why: string): never => {
  console.log(`\n## ${title}: NOT RUN — ${why}. Start the servers with \`./run servers up\`.`)
  process.exit(1)
}

/** The servers' description, or a NOT RUN line for `title` when there is none. */
export const benchServers = (title: string): BenchServers => {
  if (!existsSync(TestServers.statePath)) return notRun(title, `${TestServers.statePath} is missing`)
  return TestServers.read()
}

/** The PEM of the test CA. */
export const caPem = TestServers.caPem
