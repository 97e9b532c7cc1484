/**
 * Runs the demo CLI in-process with given arguments (the way `main.ts` does,
 * minus the process) and captures what it prints.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect } from "effect"
import * as Program from "../src/Program.js"
import { TestServers } from "@xmpp-core/platform-node/testing"

export interface Captured {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const text = (args: ReadonlyArray<unknown>) => args.map(String).join(" ")

/** `onLine` sees each printed line as it comes, e.g. to wait for "bound". */
export const runCli = (argv: ReadonlyArray<string>, onLine: (line: string) => void = () => {}) =>
  Effect.gen(function*() {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    const console: Console.Console = {
      ...globalThis.console,
      log: (...args: ReadonlyArray<unknown>) => {
        stdout.push(text(args))
        onLine(text(args))
      },
      error: (...args: ReadonlyArray<unknown>) => {
        stderr.push(text(args))
        onLine(text(args))
      }
    }
    const code = yield* Program.run(argv).pipe(
      Effect.provide(NodeServices.layer),
      Effect.provideService(Console.Console, console)
    )
    return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") } satisfies Captured
  })

/** `.state/servers.json` (the project's one reader); missing: a clear failure (./run test starts the servers first). */
export const servers = TestServers.read

type State = TestServers.TestServers

/** Flags that reach Prosody on loopback, trusting the test CA. */
export const prosodyFlags = (s: State, account: "alice" | "bob", passwordEnv: string) => [
  "--jid",
  `${account}@${s.domain}`,
  "--password-env",
  passwordEnv,
  "--host",
  "127.0.0.1",
  "--port",
  String(s.prosody.c2s),
  "--ca",
  s.ca
]
