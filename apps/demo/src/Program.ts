/**
 * The whole CLI as one effect from arguments to an exit code: runs the
 * command and turns every failure into one `error:` line and its code.
 *
 * @since 0.1.0
 */
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Cause, Effect } from "effect"
import { CliError, CliOutput, Command } from "effect/cli"
import * as Cli from "./Cli.js"
import * as Output from "./Console.js"
import { ExitCode, fromClientError } from "./ExitCode.js"
import { withFlagNames } from "./Flags.js"

// Help and version as usual; a bad invocation prints only our one error line
// (the default would print the whole help page first).
const presenter: CliOutput.Presenter = {
  present: (event) => (event._tag === "InvalidInvocation" ? Effect.void : CliOutput.defaultPresenter.present(event))
}

const usage = (error: CliError.CliError) =>
  error._tag === "ShowHelp"
    ? error.errors.map((e) => e.message).join("; ")
    : error.message

/**
 * Runs the CLI with these arguments; succeeds with the exit code.
 *
 * @since 0.1.0
 */
export const run = (argv: ReadonlyArray<string>) =>
  Command.runWith(Cli.demo, { version: "0.1.0" })(argv).pipe(
    Effect.provide(NodeXmppClient.layerPorts()),
    Effect.provideService(CliOutput.Presenter, presenter),
    Effect.as<ExitCode>(ExitCode.Success),
    Effect.catch((error) => {
      switch (error._tag) {
        case "XmppClientError":
          return Effect.as(Output.failure(error.reason, withFlagNames(error.message), error.condition), fromClientError(error))
        case "DemoError":
          return Effect.as(
            Output.failure(error.reason, error.message),
            error.reason === "TourFailed" ? ExitCode.Failure : ExitCode.Usage
          )
        case "NetAddressError":
          return Effect.as(Output.failure("NetAddressError", error.message), ExitCode.ConnectFailed)
        case "ShowHelp":
          if (error.errors.length === 0) return Effect.succeed(ExitCode.Success)
          return Effect.as(Output.failure("usage", `${usage(error)} (see --help)`), ExitCode.Usage)
        default:
          return Effect.as(Output.failure("usage", `${usage(error)} (see --help)`), ExitCode.Usage)
      }
    }),
    // Anything unexpected still ends as one line, never a stack trace.
    Effect.catchCause((cause) => {
      if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
      const squashed = Cause.squash(cause)
      return Effect.as(
        Output.failure("internal", squashed instanceof Error ? squashed.message : "unexpected failure"),
        ExitCode.Failure
      )
    })
  )
