/**
 * The BOSH machine's timers, by name (as quinn-proto's `TimerTable`): each
 * holds the time (ms) it fires, or `Infinity` when it is stopped. The next
 * deadline of the machine is the earliest of them.
 *
 * - `request`: the earliest unanswered request times out, or a failed one is
 *   due to be sent again after its backoff;
 * - `poll`: a deferred empty request may go (the manager's `polling` rules,
 *   or the keep-alive before its `inactivity`);
 * - `resume`: a pause ends early on the client's side, so the manager hears
 *   from it before the pause is over;
 * - `straggler`: a late copy of an answered request is no longer waited for,
 *   which may free the rid window.
 *
 * A new timed concern of the machine is one more name here.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export type Timer = "request" | "poll" | "resume" | "straggler"

/**
 * @since 0.1.0
 */
export type TimerTable = { [K in Timer]: number }

/**
 * A table with every timer stopped.
 *
 * @since 0.1.0
 */
export const make = (): TimerTable => ({ request: Infinity, poll: Infinity, resume: Infinity, straggler: Infinity })

/**
 * A copy the caller may change without touching `table`.
 *
 * @since 0.1.0
 */
export const fork = (table: TimerTable): TimerTable => ({
  request: table.request,
  poll: table.poll,
  resume: table.resume,
  straggler: table.straggler
})

/**
 * Sets `timer` to fire at `at` (Infinity stops it).
 *
 * @since 0.1.0
 */
export const set = (table: TimerTable, timer: Timer, at: number): void => {
  table[timer] = at
}

/**
 * Stops `timer`.
 *
 * @since 0.1.0
 */
export const stop = (table: TimerTable, timer: Timer): void => {
  table[timer] = Infinity
}

/**
 * When the earliest timer fires, or undefined when every timer is stopped.
 *
 * @since 0.1.0
 */
export const next = (table: TimerTable): number | undefined => {
  const at = Math.min(table.request, table.poll, table.resume, table.straggler)
  return at === Infinity ? undefined : at
}

/**
 * Whether `timer` has fired by `now`.
 *
 * @since 0.1.0
 */
export const isExpired = (table: TimerTable, timer: Timer, now: number): boolean => table[timer] <= now
