/**
 * The project's local test servers, for the tour: `scripts/servers.sh up`
 * as a child process (it prints its own progress on stderr) and the
 * description it writes to `.state/servers.json`.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { ChildProcess } from "effect/process"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { TestServers } from "@xmpp-core/platform-node/testing"
import { DemoError } from "./DemoError.js"

/** The repository root: this file is in apps/demo/src (or dist). */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..")

/**
 * `.state/servers.json`: the project's one description of its test servers.
 *
 * @since 0.1.0
 */
export const Servers = TestServers.TestServers

/**
 * @since 0.1.0
 */
export type Servers = TestServers.TestServers

/**
 * @since 0.1.0
 */
export const stateFile = TestServers.statePath

const unavailable = (message: string) => new DemoError({ reason: "ServersUnavailable", message })

/**
 * Runs `scripts/servers.sh up` (idempotent) and fails unless it exits 0.
 *
 * @since 0.1.0
 */
export const up = Effect.gen(function*() {
  const handle = yield* ChildProcess.make(join(root, "scripts", "servers.sh"), ["up"], {
    cwd: root,
    stdin: "ignore",
    stdout: "inherit",
    stderr: "inherit"
  })
  const code = yield* handle.exitCode
  if (code !== 0) return yield* unavailable(`scripts/servers.sh up exited with ${code}`)
}).pipe(
  Effect.scoped,
  Effect.catchTag("PlatformError", (error) => Effect.fail(unavailable(`scripts/servers.sh up: ${error.message}`)))
)

/**
 * Reads and checks `.state/servers.json`.
 *
 * @since 0.1.0
 */
export const read = Effect.gen(function*() {
  const text = yield* Effect.try({
    try: () => readFileSync(stateFile, "utf8"),
    catch: () => unavailable(`${stateFile} is missing: start the servers with \`./run servers up\` (or drop --no-servers)`)
  })
  const json = yield* Effect.try({ try: (): unknown => JSON.parse(text), catch: () => unavailable(`${stateFile} is not JSON`) })
  return yield* Schema.decodeUnknownEffect(Servers)(json).pipe(
    Effect.mapError((error) => unavailable(`${stateFile}: ${error.message}`))
  )
})

/**
 * The test CA's PEM.
 *
 * @since 0.1.0
 */
export const readCa = (servers: Servers) =>
  Effect.try({ try: () => readFileSync(servers.ca, "utf8"), catch: () => unavailable(`cannot read the test CA ${servers.ca}`) })
