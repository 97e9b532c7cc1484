/**
 * Deliberately broken BOSH machines, to show that the properties can fail.
 * Test code only: each wraps the real `BoshSession` (`make`/`step`) and
 * breaks one of its guarantees from the outside, so production code carries
 * no switch for them. A wrapper may keep per-run memory, hence one factory
 * call per simulated run.
 */
import { BoshSession, Element, Namespaces } from "@xmpp-core/protocol"
import type { Machine } from "./Simulation.js"

/** The name of each broken machine, for the test titles. */
export type Broken =
  | "deliver-in-arrival-order"
  | "resend-with-new-rid"
  | "eager-empty-requests"
  | "acknowledge-everything-sent"
  | "ignore-awaited-acknowledgement"

const real: Machine = { make: BoshSession.make, step: BoshSession.step, nextDeadline: BoshSession.nextDeadline }

/**
 * Hands payloads out as their response arrives, not in rid order (breaks
 * property 2): an early response's payloads are delivered at once, and the
 * machine's own in-order delivery of that rid later is dropped.
 */
const deliverInArrivalOrder = (): Machine => {
  const early = new Set<number>()
  const handedOut = new Set<number>()
  return {
    ...real,
    step: (state, event, now) => {
      const result = BoshSession.step(state, event, now)
      const actions: Array<BoshSession.Action> = []
      for (const action of result.actions) {
        if (action._tag === "Deliver") {
          if (early.has(action.rid)) continue
          handedOut.add(action.rid)
        }
        actions.push(action)
      }
      if (
        event._tag === "HttpResponse" && event.status === 200 && event.body !== undefined &&
        Element.attribute(event.body, "type") === undefined && !handedOut.has(event.rid) &&
        result.state._tag !== "Terminated"
      ) {
        const payloads = Element.elements(event.body)
        if (payloads.length > 0) {
          early.add(event.rid)
          handedOut.add(event.rid)
          actions.unshift({ _tag: "Deliver", rid: event.rid, payloads })
        }
      }
      return { state: result.state, actions }
    }
  }
}

const emptyBody = Element.make("body", { namespace: Namespaces.HTTP_BIND })

/**
 * Sends the payloads of a failed request again under a new rid instead of
 * the same rid and bytes (breaks property 1): the resend is dropped, the
 * machine is told that rid was answered, and its payloads are queued again.
 */
const resendWithNewRid = (): Machine => {
  const step = (state: BoshSession.State, event: BoshSession.Event, now: number): BoshSession.Step => {
    const result = BoshSession.step(state, event, now)
    const actions: Array<BoshSession.Action> = []
    const resends: Array<BoshSession.Request> = []
    for (const action of result.actions) {
      const isPayloadResend = action._tag === "Request" && action.attempt > 1 && action.payloads.length > 0 &&
        action.attributes.type === undefined
      if (isPayloadResend) resends.push(action)
      else actions.push(action)
    }
    let current = result.state
    for (const resend of resends) {
      const answered = step(current, {
        _tag: "HttpResponse",
        rid: resend.rid,
        status: 200,
        body: emptyBody,
        attempt: resend.attempt
      }, now)
      const again = step(answered.state, BoshSession.Event.send(resend.payloads), now)
      current = again.state
      actions.push(...answered.actions, ...again.actions)
    }
    return { state: current, actions }
  }
  return { ...real, step }
}

/**
 * Ignores the manager's `polling` interval (breaks property 3): the session
 * creation response is read as if it granted `polling='0'`, and no jitter
 * margin is added.
 */
const eagerEmptyRequests = (): Machine => ({
  ...real,
  make: (options, randomness, now) => BoshSession.make({ ...options, pollingMarginMs: 0 }, randomness, now),
  step: (state, event, now) =>
    BoshSession.step(
      state,
      event._tag === "HttpResponse" && event.body !== undefined && Element.attribute(event.body, "sid") !== undefined
        ? { ...event, body: Element.withAttribute(event.body, "polling", "0") }
        : event,
      now
    )
})

/**
 * Takes any answer (a 503 from an intermediary included) as the manager's
 * receipt of every payload already sent, not just of the requests answered
 * in order (breaks property 6): an acknowledgement can come before the
 * manager has the payload.
 */
const acknowledgeEverythingSent = (): Machine => ({
  ...real,
  step: (state, event, now) => {
    const result = BoshSession.step(state, event, now)
    if (event._tag !== "HttpResponse" || result.state._tag === "Terminated") return result
    const sent = BoshSession.acceptedPayloads(result.state) - BoshSession.queuedStanzas(result.state)
    return { state: result.state, actions: [...result.actions, { _tag: "Acknowledged", upTo: sent }] }
  }
})

/**
 * Ignores a caller waiting for an acknowledgement (breaks property 7): the
 * request carrying its payloads stays held at the manager until `wait`.
 */
const ignoreAwaitedAcknowledgement = (): Machine => ({
  ...real,
  step: (state, event, now) => event._tag === "AwaitAcknowledgement" ? { state, actions: [] } : BoshSession.step(state, event, now)
})

/** A fresh broken machine of the given kind (one per run). */
export const broken = (kind: Broken): Machine => {
  switch (kind) {
    case "deliver-in-arrival-order":
      return deliverInArrivalOrder()
    case "resend-with-new-rid":
      return resendWithNewRid()
    case "eager-empty-requests":
      return eagerEmptyRequests()
    case "acknowledge-everything-sent":
      return acknowledgeEverythingSent()
    case "ignore-awaited-acknowledgement":
      return ignoreAwaitedAcknowledgement()
  }
}
