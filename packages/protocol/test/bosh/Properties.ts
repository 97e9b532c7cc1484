/**
 * The promises, as predicates over one simulation outcome.
 */
import type { Outcome, Scenario } from "./Simulation.js"
import { ids, MAX_ROUND_TRIP } from "./Simulation.js"


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


/**
 * Property 6: acknowledgements are never early, and what is not acknowledged
 * is handed back exactly: the payloads accepted after the last acknowledged
 * one, in order, covering everything the manager lacks; none after a clean close.
 */
export const acknowledgementsExact = (outcome: Outcome): boolean => {
  if (outcome.falseAcknowledgements.length > 0) return false
  const sent = ids(outcome.clientSent)
  const handedBack = ids(outcome.unacknowledged)
  const rest = sent.slice(outcome.acknowledgedUpTo)
  const exact = handedBack.length === rest.length && handedBack.every((id, i) => rest[i] === id)
  const received = new Set(ids(outcome.manager.forwarded))
  const covered = sent.every((id) => received.has(id) || handedBack.includes(id))
  const closedClean = !outcome.closed || (handedBack.length === 0 && outcome.acknowledgedUpTo === sent.length)
  return exact && covered && closedClean
}

/**
 * Property 7: a caller waiting for an acknowledgement (`AwaitAcknowledgement`)
 * gets it within the round trips its payloads need when the manager holds
 * one request (as Prosody and ejabberd do): one empty request makes it
 * answer the one carrying them. Holding more, it answers the oldest first,
 * so up to `hold` empty requests go, `polling` apart; a polling session
 * paces every request by `polling`. Never a `wait`-long hold: the scenarios
 * of this property have `wait` 30 s and no faults; the bound allows 3 s of
 * round trips (session creation and restart included), plus one round trip
 * per stanza still unacknowledged when the caller began to wait: a small
 * `maxBodyChars` sends one stanza per request, and a backlog of them takes
 * its round trips (72 at most here, 15 s: still half a `wait`).
 */
export const acknowledgedPromptly = (s: Scenario, outcome: Outcome): boolean => {
  const base = s.manager.hold === 1 ? 3000 : Math.max(1, s.manager.hold) * s.manager.polling * 1000 + 3000
  return outcome.acknowledgementDelays.every(({ backlog, delay }) => delay <= base + backlog * MAX_ROUND_TRIP)
}
