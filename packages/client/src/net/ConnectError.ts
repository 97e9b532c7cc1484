/**
 * Failure to reach a peer at the TCP level.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { Hop } from "./Route.js"

/**
 * - `Refused`: the peer answered with a reset (nothing listens on the port).
 * - `TimedOut`: the step did not finish within the connect timeout (a silent peer).
 * - `DnsFailed`: the host name did not resolve.
 * - `Unreachable`: no route to the network or host.
 * - `Closed`: the peer closed or reset the connection before the step finished.
 *
 * @since 0.1.0
 */
export type ConnectErrorReason = "Refused" | "TimedOut" | "DnsFailed" | "Unreachable" | "Closed"

/**
 * @since 0.1.0
 */
export class ConnectError extends Data.TaggedError("ConnectError")<{
  readonly reason: ConnectErrorReason
  readonly message: string
  /** The step of the route that failed. */
  readonly hop: Hop
  readonly cause?: unknown
}> {}
