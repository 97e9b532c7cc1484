/**
 * Entry point: `./run demo [args]`, which runs this module bundled with what it
 * imports (`node apps/demo/dist/bundle/main.js [args]`, see `apps/demo/bundle.mjs`).
 * Ctrl-C (SIGINT) or SIGTERM interrupts the program, which closes the
 * streams cleanly (a BOSH session with its terminate) and exits 130 or 143.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Runtime } from "effect"
import { ExitCode } from "./ExitCode.js"
import * as Program from "./Program.js"

// runMain interrupts the program on either signal; which one came decides the code (128 + signal number).
let terminated = false
process.once("SIGTERM", () => {
  terminated = true
})

const teardown: Runtime.Teardown = (exit, onExit) => {
  if (Exit.isSuccess(exit) && typeof exit.value === "number") return onExit(exit.value)
  if (terminated && Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) return onExit(ExitCode.Terminated)
  return Runtime.defaultTeardown(exit, onExit)
}

// A reader that stops early (`./run demo connect | head`) is not an error of ours:
// the output simply has nowhere to go, so end quietly as a pipe's writer should.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

Program.run(process.argv.slice(2)).pipe(
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ teardown, disableErrorReporting: true })
)
