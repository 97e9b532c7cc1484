/**
 * The demo's own failures (the client's are `XmppClientError`).
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * - `InvalidFlags`: the flags do not make a valid configuration.
 * - `MissingPassword`: no password in the environment and no terminal to ask on.
 * - `ServersUnavailable`: the local test servers could not be started or described.
 * - `TourFailed`: a tour message was lost, duplicated or reordered, or did not arrive in time.
 *
 * @since 0.1.0
 */
export class DemoError extends Data.TaggedError("DemoError")<{
  readonly reason: "InvalidFlags" | "MissingPassword" | "ServersUnavailable" | "TourFailed"
  readonly message: string
}> {}
