/**
 * What the BOSH machine does when an exchange brings no usable answer
 * (XEP-0124 §14.3, §17.3): the same request again, with the same rid and
 * bytes, after an exponential backoff; or, past the attempts or the deadline
 * allowed, the error that ends the session.
 *
 * @since 0.1.0
 */
import { BoshError } from "./BoshError.js"
import * as Outgoing from "./Outgoing.js"
import type { Session } from "./Session.js"

/**
 * Why an exchange brought no usable answer.
 *
 * @since 0.1.0
 */
export interface Failure {
  readonly reason: string
  readonly recoverable: boolean
  readonly cause?: unknown
}

/**
 * The exchange got no answer in time.
 *
 * @since 0.1.0
 */
export const timedOut: Failure = { reason: "timed out", recoverable: true }

const unreachable = (message: string, failure: Failure): BoshError =>
  new BoshError({ reason: "connection-manager-unreachable", message, cause: failure.cause })

/**
 * A request got no usable answer: schedules the same bytes again after a
 * backoff (with the earlier requests it may be stuck behind), or returns the
 * error that ends the session.
 *
 * @since 0.1.0
 */
export const failed = (session: Session, outgoing: Outgoing.Outgoing, failure: Failure, now: number): BoshError | undefined => {
  if (!failure.recoverable) {
    return unreachable(`request ${outgoing.rid} failed and cannot succeed by resending: ${failure.reason}`, failure)
  }
  if (outgoing.attempts >= session.settings.maxAttempts) {
    return unreachable(`request ${outgoing.rid} failed ${outgoing.attempts} times, last: ${failure.reason}`, failure)
  }
  const backoff = Math.min(
    session.settings.retryBaseMs * 2 ** (outgoing.attempts - 1),
    session.settings.retryMaxMs
  )
  // Session creation has one deadline over all its attempts: no retry after it.
  if (now + backoff >= outgoing.giveUpAt) {
    const within = session.settings.requestTimeoutMs / 1000
    const last = failure === timedOut ? "" : ` (last: ${failure.reason})`
    return unreachable(`no answer to ${Outgoing.name[outgoing.kind]} within ${within} s${last}`, failure)
  }
  outgoing.status = "retry"
  outgoing.deadline = now + backoff
  // A pause request is never answered by ejabberd, so its loss only shows when a later request
  // gets stuck behind it: send it again too (§17.3: resend the unanswered requests before).
  // Likewise when a request the manager answers at once gets no answer: the manager takes
  // requests in rid order, so an earlier request lost on the way holds it back.
  const stuckBehind = failure === timedOut && Outgoing.answeredAtOnce(outgoing.kind)
  for (const earlier of session.window.outgoing.values()) {
    if (
      (earlier.kind === "pause" || stuckBehind) && earlier.rid < outgoing.rid && earlier.status === "sent" &&
      earlier.attempts < session.settings.maxAttempts && !session.window.received.has(earlier.rid)
    ) {
      earlier.status = "retry"
      earlier.deadline = now + backoff
    }
  }
  return undefined
}
