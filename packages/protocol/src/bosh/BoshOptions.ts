/**
 * The session options as a `Schema`, so configuration from outside (a file,
 * flags, environment) is decoded and checked before a session starts.
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"
import { BoshError } from "./BoshError.js"
import type { Options } from "./BoshSession.js"

const count = (minimum: number, maximum: number) =>
  Schema.optional(Schema.Finite.check(Schema.isInt(), Schema.isBetween({ minimum, maximum })))

const milliseconds = (maximum: number) => count(0, maximum)

/**
 * @since 0.1.0
 */
export const OptionsSchema = Schema.Struct({
  to: Schema.NonEmptyString,
  lang: Schema.optional(Schema.NonEmptyString),
  // XEP-0124 §7.1: seconds, a short in the schema.
  wait: count(1, 32_767),
  hold: count(0, 127),
  ver: Schema.optional(Schema.String.check(Schema.isPattern(/^\d{1,6}\.\d{1,6}$/))),
  content: Schema.optional(Schema.NonEmptyString),
  route: Schema.optional(Schema.String.check(Schema.isPattern(/^[a-z][a-z0-9+.-]*:[^:]+:\d{1,5}$/))),
  from: Schema.optional(Schema.NonEmptyString),
  acknowledgements: Schema.optional(Schema.Boolean),
  keys: Schema.optional(Schema.Boolean),
  keyChainLength: count(2, 100_000),
  maxBodyChars: count(64, 64 * 1024 * 1024),
  maxQueuedStanzas: count(1, 10_000_000),
  timeoutMarginMs: milliseconds(600_000),
  pollingMarginMs: milliseconds(60_000),
  maxAttempts: count(1, 100),
  retryBaseMs: milliseconds(600_000),
  retryMaxMs: milliseconds(3_600_000),
  requestTimeoutMs: milliseconds(3_600_000)
})

/**
 * Decodes options from unknown input; a bad value is a `BoshError` with
 * reason `invalid-options` naming the problem.
 *
 * @since 0.1.0
 */
export const decode = (input: unknown): Result.Result<Options, BoshError> => {
  const decoded = Schema.decodeUnknownResult(OptionsSchema)(input)
  if (Result.isFailure(decoded)) {
    return Result.fail(new BoshError({ reason: "invalid-options", message: decoded.failure.message }))
  }
  return Result.succeed(decoded.success)
}
