/**
 * Entry point: `node apps/demo/dist/main.js [args]` (or `./run demo [args]`).
 * Ctrl-C interrupts the program, which closes the streams cleanly and exits 130.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Exit, Runtime } from "effect"
import * as Program from "./Program.js"

const teardown: Runtime.Teardown = (exit, onExit) => {
  if (Exit.isSuccess(exit) && typeof exit.value === "number") return onExit(exit.value)
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
