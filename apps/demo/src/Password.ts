/**
 * Where the password comes from: an environment variable, or a masked
 * prompt when stdin is a terminal. Never a flag: it would land in the shell
 * history and in `ps`.
 *
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import { Prompt } from "effect/cli"
import { DemoError } from "./DemoError.js"

/**
 * @since 0.1.0
 */
export const read = (variable: string, jid: string) =>
  Effect.gen(function*() {
    const fromEnv = process.env[variable]
    if (fromEnv !== undefined && fromEnv !== "") return Redacted.make(fromEnv)
    if (process.stdin.isTTY !== true) {
      return yield* new DemoError({
        reason: "MissingPassword",
        message: `no password: set ${variable} (or name another variable with --password-env), or run on a terminal to be asked`
      })
    }
    const typed = yield* Prompt.run(Prompt.Password({ message: `password for ${jid}` })).pipe(
      Effect.mapError(() => new DemoError({ reason: "MissingPassword", message: "the password prompt was closed" }))
    )
    return Redacted.make(Redacted.value(typed))
  })
