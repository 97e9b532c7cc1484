/**
 * A BOSH HTTP config that is malformed, or that the chosen runtime cannot
 * honour. Refusing is the safe answer: silently dropping a proxy would leak
 * the user's address, silently dropping a CA would only fail later and
 * less clearly.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * - `InvalidConfig`: the config does not decode (see `message`).
 * - `UnsupportedByRuntime`: the runtime cannot do what the config asks
 *   (e.g. a per-client proxy or CA with fetch in a browser).
 *
 * @since 0.1.0
 */
export type BoshHttpConfigErrorReason = "InvalidConfig" | "UnsupportedByRuntime"

/**
 * @since 0.1.0
 */
export class BoshHttpConfigError extends Data.TaggedError("BoshHttpConfigError")<{
  readonly reason: BoshHttpConfigErrorReason
  readonly message: string
  /** The config field at fault, when there is one. */
  readonly field?: string
}> {}
