/**
 * The BOSH session options: one `Schema` with the bounds and the defaults,
 * the one place a session setting is written. Everything else derives from
 * it: `Options` (what a caller may give, every field but `to` optional) is
 * its encoded side, `Settings` (every default applied) its decoded side;
 * `decode` checks input from outside (a file, flags, environment), `resolve`
 * applies the defaults to options a program built itself. The client's
 * configuration reuses the field schemas (`Wait`, `Hold`, `Route`,
 * `RequestTimeoutMs`) and `defaults`.
 *
 * A new setting goes here: a field with its bound and default, read by the
 * machine from its `Settings`.
 *
 * @since 0.1.0
 */
import { Effect, Result, Schema } from "effect"
import { BoshError } from "./BoshError.js"

const integer = (minimum: number, maximum: number) =>
  Schema.Finite.check(Schema.isInt(), Schema.isBetween({ minimum, maximum }))

/**
 * The defaults of every option that has one.
 *
 * @since 0.1.0
 */
export const defaults = {
  lang: "en",
  wait: 60,
  hold: 1,
  ver: "1.11",
  content: "text/xml; charset=utf-8",
  acknowledgements: true,
  keys: true,
  maxBodyChars: 65_536,
  maxQueuedStanzas: 10_000,
  timeoutMarginMs: 5_000,
  requestTimeoutMs: 10_000,
  pollingMarginMs: 250,
  maxAttempts: 5,
  retryBaseMs: 500,
  retryMaxMs: 8_000
} as const

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefault(Effect.succeed(value)))

/**
 * `wait`, seconds: the longest time the manager may hold a request. XEP-0124
 * §7.1 and its schema: a positive `xs:short`, so 1 to 32,767.
 *
 * @since 0.1.0
 */
export const Wait = integer(1, 32_767)

/**
 * `hold`: how many requests the manager may keep waiting. XEP-0124 §7.1 and
 * its schema: an `xs:byte`, so 0 to 127. (The client's HTTP layer allows
 * fewer: see its `BoshHttpConfig`.)
 *
 * @since 0.1.0
 */
export const Hold = integer(0, 127)

/**
 * `route`, `proto:host:port` (XEP-0124 §7.1, XEP-0206 `xmpp:host:port`), for
 * a connection manager that serves other servers than its own.
 *
 * @since 0.1.0
 */
export const Route = Schema.String.check(Schema.isPattern(/^[a-z][a-z0-9+.-]*:[^:]+:\d{1,5}$/))

/**
 * Milliseconds to wait for the answer to a request the manager answers at
 * once (session creation, restart, terminate): at least 1 ms, at most an hour.
 *
 * @since 0.1.0
 */
export const RequestTimeoutMs = integer(1, 3_600_000)

const milliseconds = (maximum: number) => integer(0, maximum)

/**
 * @since 0.1.0
 */
export const OptionsSchema = Schema.Struct({
  /** The XMPP domain (`to`). */
  to: Schema.NonEmptyString,
  lang: withDefault(Schema.NonEmptyString, defaults.lang),
  /** Longest hold, seconds (asked; the manager may grant less). */
  wait: withDefault(Wait, defaults.wait),
  /** Requests the manager may keep waiting (1: no HTTP pipelining assumed). */
  hold: withDefault(Hold, defaults.hold),
  /** Highest BOSH version spoken. */
  ver: withDefault(Schema.String.check(Schema.isPattern(/^\d{1,6}\.\d{1,6}$/)), defaults.ver),
  content: withDefault(Schema.NonEmptyString, defaults.content),
  route: Schema.optional(Route),
  from: Schema.optional(Schema.NonEmptyString),
  /** Send `ack='1'` and acknowledgements (§9). */
  acknowledgements: withDefault(Schema.Boolean, defaults.acknowledgements),
  /** Use the §15 key sequence. */
  keys: withDefault(Schema.Boolean, defaults.keys),
  /** Force the length of each key chain (tests of the chain switch). */
  keyChainLength: Schema.optional(integer(2, 100_000)),
  /** Most characters of payload in one request; a larger batch is split. */
  maxBodyChars: withDefault(integer(64, 64 * 1024 * 1024), defaults.maxBodyChars),
  /** Most stanzas waiting to be sent; beyond it `Send` is rejected. */
  maxQueuedStanzas: withDefault(integer(1, 10_000_000), defaults.maxQueuedStanzas),
  /** Added to `wait` before a request the manager may hold counts as lost, ms. */
  timeoutMarginMs: withDefault(milliseconds(600_000), defaults.timeoutMarginMs),
  /**
   * Longest wait, ms, for the answer to a request the manager answers at once
   * and never holds (session creation, restart, terminate): a silent manager
   * is noticed in seconds, not after several `wait` periods. For session
   * creation it bounds every attempt together.
   */
  requestTimeoutMs: withDefault(RequestTimeoutMs, defaults.requestTimeoutMs),
  /** Added to `polling` to absorb network jitter, ms. */
  pollingMarginMs: withDefault(milliseconds(60_000), defaults.pollingMarginMs),
  /** Transmissions of one request before the session is given up. */
  maxAttempts: withDefault(integer(1, 100), defaults.maxAttempts),
  /** First retry delay, ms; doubles up to `retryMaxMs`. */
  retryBaseMs: withDefault(milliseconds(600_000), defaults.retryBaseMs),
  retryMaxMs: withDefault(milliseconds(3_600_000), defaults.retryMaxMs)
})

/**
 * The options a caller gives: `to`, and any other field (absent or
 * `undefined` means its default).
 *
 * @since 0.1.0
 */
export type Options = typeof OptionsSchema.Encoded

/**
 * The options with every default applied, as the machine reads them.
 *
 * @since 0.1.0
 */
export type Settings = typeof OptionsSchema.Type

const applyDefaults = Schema.decodeSync(OptionsSchema)

/**
 * Applies the defaults, without checking bounds: for options a program
 * built itself (checked ones come from `decode`).
 *
 * @since 0.1.0
 */
export const resolve = (options: Options): Settings => applyDefaults(options, { disableChecks: true })

/**
 * Decodes options from unknown input, checking every bound and applying the
 * defaults; a bad value is a `BoshError` with reason `invalid-options`
 * naming the problem.
 *
 * @since 0.1.0
 */
export const decode = (input: unknown): Result.Result<Settings, BoshError> => {
  const decoded = Schema.decodeUnknownResult(OptionsSchema)(input)
  if (Result.isFailure(decoded)) {
    return Result.fail(new BoshError({ reason: "invalid-options", message: decoded.failure.message }))
  }
  return Result.succeed(decoded.success)
}
