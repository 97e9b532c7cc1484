/**
 * What the connection manager confirmed of the payloads the caller handed
 * over (XEP-0124 §9): the manager answers a request only once it received
 * it and every request before it, so a request's payloads are acknowledged
 * when its response is processed in `rid` order. The counts are of payloads
 * the machine accepted (`Send`, `Close`), in the order it accepted them: a
 * driver that counts the same can tell, per payload, when it got through.
 *
 * When the session ends badly, the payloads not acknowledged (those in
 * requests without a processed answer, then those never sent) go back to
 * the driver, oldest first: the manager may not have them.
 *
 * @since 0.1.0
 */
import type * as Element from "../xml/Element.js"
import type { Action } from "./Action.js"
import type { Outgoing } from "./Outgoing.js"
import * as PendingQueue from "./PendingQueue.js"
import type { Session } from "./Session.js"

/**
 * Counts `count` more payloads accepted for sending.
 *
 * @since 0.1.0
 */
export const accept = (session: Session, count: number): void => {
  session.accepted += count
}

/**
 * The answer to `outgoing` was processed in order: its payloads reached the manager.
 *
 * @since 0.1.0
 */
export const acknowledge = (session: Session, outgoing: Outgoing | undefined, actions: Array<Action>): void => {
  if (outgoing === undefined || outgoing.payloads.length === 0) return
  session.acknowledged += outgoing.payloads.length
  actions.push({ _tag: "Acknowledged", upTo: session.acknowledged })
}

/**
 * The session closed cleanly: the manager answered the terminate, which
 * went after every payload accepted, so it has them all.
 *
 * @since 0.1.0
 */
export const acknowledgeAll = (session: Session, actions: Array<Action>): void => {
  if (session.acknowledged === session.accepted) return
  session.acknowledged = session.accepted
  actions.push({ _tag: "Acknowledged", upTo: session.acknowledged })
}

/**
 * Whether a caller waits for the acknowledgement of payloads already sent
 * (`AwaitAcknowledgement`): the manager may be holding the request that
 * carries them, and answers it only when another request comes.
 *
 * @since 0.1.0
 */
export const due = (session: Session): boolean =>
  session.awaitedAcknowledgement > session.acknowledged &&
  session.accepted - session.queue.stanzas >= session.awaitedAcknowledgement

/**
 * The payloads accepted and not acknowledged, oldest first: those in
 * requests whose answer was not processed (in `rid` order), then those no
 * request carried yet.
 *
 * @since 0.1.0
 */
export const unacknowledged = (session: Session): ReadonlyArray<Element.Element> => {
  const window = session.window
  const sent = [...window.outgoing.values()]
    .filter((outgoing) => outgoing.rid >= window.deliverRid && outgoing.payloads.length > 0)
    .sort((a, b) => a.rid - b.rid)
  return [...sent.flatMap((outgoing) => outgoing.payloads), ...PendingQueue.stanzaElements(session.queue)]
}
