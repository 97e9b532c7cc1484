/**
 * How the BOSH machine takes the manager's responses: strictly in rid order
 * (XEP-0124 §14.2), each once; what each one tells (session parameters,
 * payloads, `ack`, a terminal condition), and how a session ends.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import * as Element from "../xml/Element.js"
import { STREAMS } from "../xml/Namespaces.js"
import * as Acknowledgements from "./Acknowledgements.js"
import type { Action } from "./Action.js"
import { BoshError } from "./BoshError.js"
import type { Received, Session } from "./Session.js"
import * as SessionParameters from "./SessionParameters.js"

/**
 * The session is over: cleanly (no error) or with the error that ended it.
 * The same shape as the machine's `Terminated` state.
 *
 * @since 0.1.0
 */
export interface Ended {
  readonly _tag: "Terminated"
  readonly error: BoshError | undefined
  readonly unacknowledged: ReadonlyArray<Element.Element>
}

/**
 * Ends the session with `error`, telling the driver, with what the manager may not have received.
 *
 * @since 0.1.0
 */
export const end = (session: Session, error: BoshError, actions: Array<Action>): Ended => {
  const unacknowledged = Acknowledgements.unacknowledged(session)
  actions.push({ _tag: "Terminated", error, unacknowledged })
  return { _tag: "Terminated", error, unacknowledged }
}

/**
 * The session closed cleanly (our terminate went through): everything was received.
 *
 * @since 0.1.0
 */
export const closed = (session: Session, actions: Array<Action>): Ended => {
  Acknowledgements.acknowledgeAll(session, actions)
  actions.push({ _tag: "Closed" })
  return { _tag: "Terminated", error: undefined, unacknowledged: [] }
}

const noPayloads: ReadonlyArray<Element.Element> = []

// Most answers are empty: no array for them.
const stanzaChildren = (body: Element.Element): ReadonlyArray<Element.Element> =>
  body.children.length === 0 ? noPayloads : Element.elements(body)

/**
 * Processes one response in rid order: the session parameters from the
 * creation response, the payloads to hand out, the manager's `ack`, and the
 * end of the session, if this response ends it.
 *
 * @since 0.1.0
 */
export const process = (
  session: Session,
  rid: number,
  received: Received,
  actions: Array<Action>,
  now: number
): Ended | undefined => {
  const window = session.window
  const outgoing = window.outgoing.get(rid)
  window.outgoing.delete(rid)
  window.received.delete(rid)
  window.deliverRid = rid + 1
  const body = received.body
  session.lastAnswerAt = now
  const payloads = body === undefined ? noPayloads : stanzaChildren(body)
  if (session.lastNew !== undefined && session.lastNew.rid === rid) session.lastNew.hadPayloads = payloads.length > 0
  if (received.terminal !== undefined) {
    const condition = received.terminal.reason
    // After our terminate went through the manager forgets the session: a resend it no
    // longer knows (the terminate itself, or a request answered before it) means closed.
    if (condition === "item-not-found" && session.terminateRid !== undefined && (outgoing?.attempts ?? 1) > 1) {
      return closed(session, actions)
    }
    // XEP-0124 §17.2 `other-request`: another request ended the session. A request
    // held when our terminate arrived gets it (ejabberd 23.01 answers it so, and
    // sends it ahead of the terminate's own answer): our close went through.
    if (condition === "other-request" && session.terminateRid !== undefined && rid < session.terminateRid) {
      if (payloads.length > 0) actions.push({ _tag: "Deliver", rid, payloads })
      return closed(session, actions)
    }
    const deliverable = payloads.filter((element) =>
      !(condition === "remote-stream-error" && element.name === "error" && element.namespace === STREAMS) &&
      !(condition === "see-other-uri" && element.name === "uri")
    )
    if (deliverable.length > 0) actions.push({ _tag: "Deliver", rid, payloads: deliverable })
    return end(session, received.terminal, actions)
  }
  if (body === undefined) return undefined
  if (outgoing?.kind === "create") {
    const parsed = SessionParameters.parse(body, {
      rid: session.creationRid,
      wait: session.settings.wait,
      hold: session.settings.hold
    })
    if (Result.isFailure(parsed)) return end(session, parsed.failure, actions)
    session.parameters = parsed.success
    actions.push({ _tag: "SessionEstablished", parameters: parsed.success })
  }
  Acknowledgements.acknowledge(session, outgoing, actions)
  if (payloads.length > 0) {
    actions.push({ _tag: "Deliver", rid, payloads })
    session.wanted = false
  }
  const ack = Element.attribute(body, "ack")
  if (ack !== undefined && /^\d{1,16}$/.test(ack)) session.managerAck = Math.max(session.managerAck, Number(ack))
  else if (session.parameters?.acknowledgements === true) session.managerAck = Math.max(session.managerAck, rid)
  if (Element.attribute(body, "type") === "terminate") {
    if (session.terminateRid !== undefined) {
      return closed(session, actions)
    }
    return end(
      session,
      new BoshError({
        reason: "terminated-by-connection-manager",
        message: "the connection manager ended the session without a condition"
      }),
      actions
    )
  }
  if (rid === session.terminateRid) {
    return closed(session, actions)
  }
  return undefined
}

/**
 * Processes every response that is next in rid order; returns how the
 * session ended, if one of them ended it.
 *
 * @since 0.1.0
 */
export const drain = (session: Session, actions: Array<Action>, now: number): Ended | undefined => {
  const window = session.window
  while (true) {
    const received = window.received.get(window.deliverRid)
    if (received !== undefined) {
      const done = process(session, window.deliverRid, received, actions, now)
      if (done !== undefined) return done
      continue
    }
    // An unanswered pause request is passed over once a later response shows the manager moved on.
    const outgoing = window.outgoing.get(window.deliverRid)
    if (outgoing?.kind === "pause" && window.received.size > 0) {
      window.outgoing.delete(window.deliverRid)
      window.deliverRid++
      continue
    }
    return undefined
  }
}
