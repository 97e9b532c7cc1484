/**
 * Runs the demo CLI in-process with given arguments (the way `main.ts` does,
 * minus the process) and captures what it prints.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect, Schema } from "effect"
import { readFileSync } from "node:fs"
import * as Program from "../src/Program.js"
import * as Servers from "../src/Servers.js"

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

const Pair = Schema.Struct({ cert: Schema.String, key: Schema.String })
const State = Schema.Struct({
  ...Servers.Servers.fields,
  closedPort: Schema.optionalKey(Schema.Int),
  anonymousDomain: Schema.String,
  clientCertificates: Schema.Struct({ "alice@localhost": Pair, "alice@cert.localhost": Pair })
})

/** `.state/servers.json`; missing: a clear failure (./run test starts the servers first). */
export const servers = (): typeof State.Type => {
  let json: string
  try {
    json = readFileSync(Servers.stateFile, "utf8")
  } catch (cause) {
    throw new Error(`${Servers.stateFile} is missing: start the test servers with \`./run servers up\``, { cause })
  }
  return Schema.decodeUnknownSync(State)(JSON.parse(json))
}

/** Flags that reach Prosody on loopback, trusting the test CA. */
export const prosodyFlags = (s: typeof State.Type, account: "alice" | "bob", passwordEnv: string) => [
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
