/**
 * The local test servers, as `./run servers up` describes them in
 * `.state/servers.json`: the one reader the platform-node benchmarks share.
 * When the file is missing, the benchmark says it was not run and why, and
 * exits non-zero, instead of printing numbers it did not measure.
 */
import { Schema } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const Port = Schema.Int
const XmppServer = Schema.Struct({ c2s: Port, c2sDirectTls: Port, http: Port, https: Port, boshPath: Schema.String })

const BenchServersSchema = Schema.Struct({
  ca: Schema.String,
  domain: Schema.String,
  accounts: Schema.Struct({ alice: Schema.String, bob: Schema.String }),
  prosody: XmppServer,
  ejabberd: XmppServer,
  microsocks: Schema.Struct({ open: Port })
})

export type BenchServers = typeof BenchServersSchema.Type

// Compiled into packages/platform-node/dist-bench/: the repository root is three levels up.
const statePath = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", ".state", "servers.json")

/** Prints why `title` was not run and ends the process. */
export const notRun = (title: string, why: string): never => {
  console.log(`\n## ${title}: NOT RUN — ${why}. Start the servers with \`./run servers up\`.`)
  process.exit(1)
}

/** The servers' description, or a NOT RUN line for `title` when there is none. */
export const benchServers = (title: string): BenchServers => {
  if (!existsSync(statePath)) return notRun(title, `${statePath} is missing`)
  return Schema.decodeUnknownSync(BenchServersSchema)(JSON.parse(readFileSync(statePath, "utf8")))
}

/** The PEM of the test CA. */
export const caPem = (servers: BenchServers): string => readFileSync(servers.ca, "utf8")
