/**
 * The settings of a kept-up session, each declared once with its default:
 * stream management (XEP-0198; the defaults are the protocol machine's own)
 * and the reconnect policy.
 *
 * @since 0.1.0
 */
import { StreamManagement, type TransportKind } from "@xmpp-core/protocol"
import * as Schema from "effect/Schema"

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/**
 * XEP-0198 stream management, asked for after binding when the server
 * offers it: on unless `enabled` is false, because it is how a caller learns
 * which stanzas the server has (`sendAcknowledged`, and the stanzas handed
 * back when a session ends). Every other field is optional; absent ones take
 * the protocol machine's defaults (`StreamManagement.defaults`).
 *
 * - `enabled`: false turns it off (default true).
 * - `resume`: ask for a resumable session, so a lost link can be resumed; default: when the
 *   session reconnects (`reconnect` set), since only then is a kept session of use (a server
 *   keeps a resumable session, and its presence, for a while after the link is lost). TCP
 *   only: see `resumesOver`.
 * - `maxResumeSeconds`: how long the server should keep it (the server may cap it).
 * - `maxUnacked`: the most stanzas waiting for the server's acknowledgement; a send beyond
 *   waits for room, up to `ackTimeout`, then fails with `QueueFull`.
 * - `requestEvery`: an `<r/>` after this many stanzas, and at the end of each burst.
 * - `ackTimeout`: milliseconds an `<r/>` may go unanswered before the link is taken as dead.
 * - `requestDelay`: milliseconds the `<r/>` for a burst's tail may wait when no `sendAcknowledged`
 *   waits for it, so stanzas sent one by one share it (0: at once).
 * - `idleRequest`: milliseconds of silence from the server before an `<r/>` checks the link; absent: never.
 *
 * @since 0.1.0
 */
export const StreamManagementSettings = Schema.Struct({
  enabled: Schema.optionalKey(Schema.Boolean),
  resume: Schema.optionalKey(Schema.Boolean),
  maxResumeSeconds: Schema.optionalKey(PositiveInt),
  maxUnacked: Schema.optionalKey(PositiveInt),
  requestEvery: Schema.optionalKey(PositiveInt),
  ackTimeout: Schema.optionalKey(PositiveInt),
  requestDelay: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  idleRequest: Schema.optionalKey(PositiveInt)
})

/** @since 0.1.0 */
export type StreamManagementSettings = typeof StreamManagementSettings.Type

/**
 * The stream-management settings a session runs with: the configured ones
 * (absent: every default), or none when they turn it off.
 *
 * @since 0.1.0
 */
export const streamManagementOf = (
  configured: StreamManagementSettings | undefined
): StreamManagementSettings | undefined => configured?.enabled === false ? undefined : configured ?? {}

/**
 * The machine's options for `settings`, defaults filled in from the machine;
 * `reconnects`: whether the session reconnects (the default of `resume`).
 *
 * @since 0.1.0
 */
export const streamManagementOptions = (settings: StreamManagementSettings, reconnects: boolean): StreamManagement.Options => {
  const defaults = StreamManagement.defaults
  return {
    resume: settings.resume ?? reconnects,
    maxResumeSeconds: settings.maxResumeSeconds ?? defaults.maxResumeSeconds,
    maxUnacked: settings.maxUnacked ?? defaults.maxUnacked,
    requestEvery: settings.requestEvery ?? defaults.requestEvery,
    ackTimeoutMs: settings.ackTimeout ?? defaults.ackTimeoutMs,
    idleRequestMs: settings.idleRequest ?? defaults.idleRequestMs,
    requestDelayMs: settings.requestDelay ?? defaults.requestDelayMs
  }
}

/**
 * Whether a session over `transport` asks to be resumable. Not over BOSH:
 * a BOSH session already survives lost HTTP connections by itself, and
 * resuming one on a new BOSH session fails on both servers measured —
 * Prosody 0.12.3's `mod_smacks` breaks on a BOSH session (the `<resume/>` is
 * never answered) and ejabberd 23.01 delivers what the lost session still
 * buffered twice (once resent by stream management, once re-routed by the
 * old BOSH process): exactly-once comes first. A lost BOSH session is
 * replaced by a new one and what it may not have delivered is handed back.
 *
 * @since 0.1.0
 */
export const resumesOver = (transport: TransportKind, options: StreamManagement.Options): StreamManagement.Options =>
  transport === "bosh" && options.resume ? { ...options, resume: false } : options

/**
 * Reconnecting after a lost link (off unless configured): up to `attempts`
 * tries, the first after `initialDelay` ms, each next one twice as late up to
 * `maxDelay` ms, each delay drawn at random between half and all of it
 * (jitter, so many clients do not come back at once). Never after a refused
 * login, a `conflict` or a certificate failure: those would fail again.
 *
 * @since 0.1.0
 */
export const ReconnectSettings = Schema.Struct({
  attempts: Schema.optionalKey(PositiveInt),
  initialDelay: Schema.optionalKey(PositiveInt),
  maxDelay: Schema.optionalKey(PositiveInt)
})

/** @since 0.1.0 */
export type ReconnectSettings = typeof ReconnectSettings.Type

/** @since 0.1.0 */
export const reconnectDefaults = { attempts: 8, initialDelay: 500, maxDelay: 30_000 } as const

/**
 * The delay before try `attempt` (1-based), before jitter, in milliseconds.
 *
 * @since 0.1.0
 */
export const backoff = (settings: ReconnectSettings, attempt: number): number => {
  const initial = settings.initialDelay ?? reconnectDefaults.initialDelay
  const max = settings.maxDelay ?? reconnectDefaults.maxDelay
  return Math.min(max, initial * 2 ** Math.max(0, attempt - 1))
}

/**
 * XEP-0199 pings to the server, for sessions without stream management (or
 * besides it): every `interval` ms an `<iq type='get'><ping/></iq>`; no
 * answer within `timeout` ms means the link is dead, found in bounded time
 * instead of the kernel's minutes. Off unless configured.
 *
 * @since 0.1.0
 */
export const PingSettings = Schema.Struct({
  interval: Schema.optionalKey(PositiveInt),
  timeout: Schema.optionalKey(PositiveInt)
})

/** @since 0.1.0 */
export type PingSettings = typeof PingSettings.Type

/** @since 0.1.0 */
export const pingDefaults = { interval: 60_000, timeout: 10_000 } as const
