/**
 * The promises, as predicates over one simulation outcome.
 */
import type { Outcome, Scenario } from "./Simulation.js"
import { ids } from "./Simulation.js"


/** Property 1: every stanza the client sent reached the server exactly once, in order. */
export const clientToServerExactlyOnce = (outcome: Outcome): boolean => {
  const sent = ids(outcome.clientSent)
  const forwarded = ids(outcome.manager.forwarded)
  return sent.length === forwarded.length && sent.every((id, i) => forwarded[i] === id)
}

/**
 * Property 2: every stanza the server sent reached the client exactly once, in order.
 *
 * One exception, the limit of the protocol itself: once the client's terminate
 * went through, the manager forgets the session, so a response lost just before
 * can no longer be fetched again (its resend gets item-not-found). Then the client
 * must still have got a duplicate-free, in-order prefix.
 */
export const serverToClientExactlyOnce = (outcome: Outcome): boolean => {
  const delivered = ids(outcome.clientDelivered)
  const sent = ids(outcome.manager.delivered)
  const inOrder = delivered.every((id, i) => sent[i] === id)
  const forgotten = outcome.closed &&
    outcome.manager.terminations.some((t) => t.includes("ended session (closed by the client)"))
  if (forgotten) return inOrder && delivered.length <= sent.length
  const drained = outcome.closed || outcome.manager.outbox.length === 0
  return drained && inOrder && delivered.length === sent.length
}

/** Property 3: the manager never had to say policy-violation (nor any other rule break). */
export const noPolicyViolation = (outcome: Outcome): boolean => outcome.manager.violations.length === 0

/** The session survived the recoverable faults (or closed cleanly when asked to). */
export const survived = (s: Scenario, outcome: Outcome): boolean =>
  outcome.error === undefined && (s.closeAt === undefined ? outcome.state._tag !== "Terminated" : outcome.closed)

