/**
 * The client's window of `rid`s (XEP-0124 §14): which rid a new request
 * takes, which requests are still unanswered, the responses that came early
 * and wait for their turn, and the copies of requests still on the wire.
 *
 * - Requests are kept, with whatever the session needs to send them again,
 *   until their response is processed; responses are accepted once per rid
 *   and processed strictly in rid order (`deliverRid` is the next one).
 * - A copy of an answered request can still reach the manager late; it must
 *   find its answer in the manager's cache, which keeps only the last
 *   `requests` answers. So no new rid goes out that would push such a
 *   copy's answer out of that cache (`allowsNew`).
 *
 * The session owns one window per state and copies it on each step (`fork`);
 * the maps hold at most `requests` (+ 1) entries.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export interface RidWindow<Request, Response> {
  /** The rid the next new request takes. */
  nextRid: number
  /** Lowest rid whose response is not processed yet. */
  deliverRid: number
  /** Requests not processed yet, by rid. */
  readonly outgoing: Map<number, Request>
  /** Responses accepted (once per rid) and not processed yet, by rid. */
  readonly received: Map<number, Response>
  /** Copies on the wire: rid → (attempt - 1) → when we stop waiting for it, 0 once it ended. */
  readonly copies: Map<number, Array<number>>
}

/**
 * A window whose first request takes `rid`.
 *
 * @since 0.1.0
 */
export const make = <Request, Response>(rid: number): RidWindow<Request, Response> => ({
  nextRid: rid,
  deliverRid: rid,
  outgoing: new Map(),
  received: new Map(),
  copies: new Map()
})

/**
 * A copy the caller may change without touching `window`; `copyRequest`
 * copies a request's changeable fields.
 *
 * @since 0.1.0
 */
export const fork = <Request, Response>(
  window: RidWindow<Request, Response>,
  copyRequest: (request: Request) => Request
): RidWindow<Request, Response> => {
  const outgoing = new Map<number, Request>()
  window.outgoing.forEach((request, rid) => outgoing.set(rid, copyRequest(request)))
  const received = new Map<number, Response>()
  window.received.forEach((value, rid) => received.set(rid, value))
  const copies = new Map<number, Array<number>>()
  window.copies.forEach((attempts, rid) => copies.set(rid, attempts.slice()))
  return { nextRid: window.nextRid, deliverRid: window.deliverRid, outgoing, received, copies }
}

/**
 * Takes the next rid for a new request.
 *
 * @since 0.1.0
 */
export const take = <Request, Response>(window: RidWindow<Request, Response>): number => window.nextRid++

/**
 * Requests the manager has not answered as far as the client knows (an
 * unanswered pause request counts too: until a later answer shows it was
 * processed, the manager's window has not moved past it).
 *
 * @since 0.1.0
 */
export const outstanding = <Request, Response>(window: RidWindow<Request, Response>): number =>
  window.nextRid - window.deliverRid

/**
 * Records that attempt `attempt` of `rid` went out and is waited for until `expires`.
 *
 * @since 0.1.0
 */
export const trackCopy = <Request, Response>(
  window: RidWindow<Request, Response>,
  rid: number,
  attempt: number,
  expires: number
): void => {
  let copies = window.copies.get(rid)
  if (copies === undefined) window.copies.set(rid, copies = [])
  for (let i = copies.length; i < attempt - 1; i++) copies.push(0)
  copies[attempt - 1] = expires
}

const noCopyLeft = (copies: Array<number>): boolean => {
  for (const expires of copies) if (expires > 0) return false
  return true
}

/**
 * An exchange ended (answered or failed): that copy is off the wire; every
 * copy of `rid` when the attempt is not known.
 *
 * @since 0.1.0
 */
export const forgetCopy = <Request, Response>(
  window: RidWindow<Request, Response>,
  rid: number,
  attempt: number | undefined
): void => {
  const copies = window.copies.get(rid)
  if (copies === undefined) return
  if (attempt === undefined) copies.fill(0)
  else if (attempt >= 1 && attempt <= copies.length) copies[attempt - 1] = 0
  if (noCopyLeft(copies)) window.copies.delete(rid)
}

/**
 * Drops the copies no longer waited for at `now`; returns the lowest
 * answered rid with a copy still out (Infinity when none).
 *
 * @since 0.1.0
 */
export const oldestStraggler = <Request, Response>(window: RidWindow<Request, Response>, now: number): number => {
  let oldest = Infinity
  for (const [rid, copies] of window.copies) {
    for (let i = 0; i < copies.length; i++) if ((copies[i] ?? 0) <= now) copies[i] = 0
    if (noCopyLeft(copies)) window.copies.delete(rid)
    else if (rid < window.deliverRid && rid < oldest) oldest = rid
  }
  return oldest
}

/**
 * Whether a new rid may go out without evicting a late copy's answer from
 * a manager that caches its last `requests` answers.
 *
 * @since 0.1.0
 */
export const allowsNew = <Request, Response>(
  window: RidWindow<Request, Response>,
  requests: number,
  now: number
): boolean => window.copies.size === 0 || window.nextRid - requests < oldestStraggler(window, now)

/**
 * When the earliest copy of an answered request stops being waited for
 * (Infinity when none is out).
 *
 * @since 0.1.0
 */
export const stragglerDeadline = <Request, Response>(window: RidWindow<Request, Response>): number => {
  let deadline = Infinity
  for (const [rid, copies] of window.copies) {
    if (rid >= window.deliverRid) continue
    for (const expires of copies) if (expires > 0 && expires < deadline) deadline = expires
  }
  return deadline
}

/**
 * The earliest `deadlineOf` among the requests still waiting for their
 * response (Infinity when none).
 *
 * @since 0.1.0
 */
export const requestDeadline = <Request, Response>(
  window: RidWindow<Request, Response>,
  deadlineOf: (request: Request) => number
): number => {
  let deadline = Infinity
  for (const [rid, request] of window.outgoing) {
    if (window.received.has(rid)) continue
    const at = deadlineOf(request)
    if (at < deadline) deadline = at
  }
  return deadline
}
