/**
 * The pace of empty requests (XEP-0124 §11, §12): how soon after the last
 * one the manager's `polling` allows another, and how long the session may
 * stay without any request before the manager's `inactivity` drops it.
 *
 * @since 0.1.0
 */
import type * as SessionParameters from "./SessionParameters.js"

/**
 * The last new request (not a resend, pause or terminate), as the polling
 * rules see it.
 *
 * @since 0.1.0
 */
export interface LastNew {
  readonly rid: number
  /** Counts as an empty poll for the manager's polling rules. */
  readonly empty: boolean
  lastSentAt: number
  /** Whether its response carried payloads (undefined until processed). */
  hadPayloads: boolean | undefined
}

/**
 * The earliest time an empty request may go without breaking the manager's
 * §11 / §12 polling rules, given the last new request, how many requests are
 * out, and a margin for network jitter (ms).
 *
 * @since 0.1.0
 */
export const earliestEmpty = (
  last: LastNew | undefined,
  outstanding: number,
  parameters: SessionParameters.SessionParameters,
  marginMs: number
): number => {
  if (last === undefined) return -Infinity
  const interval = parameters.polling * 1000 + marginMs
  let earliest = -Infinity
  // Two empty polls in a row closer than `polling`, the first answered with nothing.
  if (last.empty && last.hadPayloads !== true) earliest = last.lastSentAt + interval
  // `requests` unanswered requests whose last two came closer than `polling` and carried no
  // payloads (§11: an empty request right after one with payloads is within the rules; a
  // polling session, §12, paces every request).
  if (outstanding + 1 >= parameters.requests && (last.empty || parameters.hold === 0)) {
    earliest = Math.max(earliest, last.lastSentAt + interval)
  }
  return earliest
}

/**
 * How long the machine leaves the manager without a request when nobody waits
 * for payloads: half its `inactivity` (or of `wait` when it names none), and
 * never sooner than `polling` allows.
 *
 * @since 0.1.0
 */
export const keepAliveMs = (parameters: SessionParameters.SessionParameters): number =>
  Math.max((parameters.inactivity ?? parameters.wait) * 500, parameters.polling * 1000)
