/**
 * XEP-0198 stream management, the client's side, as a pure machine:
 * `make(options, now)` and `step(state, event, now)` give the next state
 * and the actions to perform; `nextDeadline(state)` says when to step with
 * `Tick`. It counts, asks for and checks acknowledgements, keeps every
 * stanza the server has not acknowledged (bounded), answers the server's
 * requests, decides on resumption after a lost link, and hands back, in
 * order, exactly the stanzas the server never acknowledged when a session
 * cannot go on. Nothing here writes, reads or waits.
 *
 * Counting (§4): the server counts what we send from our `<enable/>` on, we
 * count what we receive from its `<enabled/>` on; counts wrap at 2^32.
 * Stanzas handed over before `<enabled/>` wait and go out after it, so a
 * refused `<enable/>` hands back only stanzas that were never written.
 * Once enabled, what the server has is `acked`, what it may lack `unacked`.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import * as Element from "../xml/Element.js"
import { JABBER_CLIENT } from "../xml/Namespaces.js"
import * as HandledCount from "./HandledCount.js"
import * as SmElements from "./SmElements.js"

/**
 * - `resume`: ask for a resumable session (`max`: the seconds asked for).
 * - `maxUnacked`: the most stanzas kept for resending; a send beyond it is refused.
 * - `requestEvery`: an `<r/>` after this many stanzas, and at the end of each burst (`Flush`).
 * - `requestDelayMs`: how long the `<r/>` for a burst's tail may wait when nobody waits for it
 *   (`Flush` with `deferred`): stanzas sent one by one then share one `<r/>`, where an `<r/>` after
 *   each would double the server's work (default 100 ms; 0: at once).
 * - `ackTimeoutMs`: an `<a/>` must come this soon after an `<r/>`, else the link is dead.
 * - `idleRequestMs`: with a silent server, an `<r/>` after this long (liveness); unset: never.
 *
 * @since 0.1.0
 */
export interface Options {
  readonly resume: boolean
  readonly maxResumeSeconds?: number | undefined
  readonly maxUnacked: number
  readonly requestEvery: number
  readonly ackTimeoutMs: number
  readonly idleRequestMs?: number | undefined
  readonly requestDelayMs?: number | undefined
}

/** @since 0.1.0 */
export const defaults: Options = { resume: true, maxUnacked: 5_000, requestEvery: 10, ackTimeoutMs: 30_000, requestDelayMs: 100 }

/**
 * - `queue-full`: `maxUnacked` stanzas wait for an acknowledgement.
 * - `ack-timeout`: no `<a/>` within `ackTimeoutMs` of an `<r/>`: the link is taken as dead.
 * - `handled-count-too-high`: the server acknowledged more than was sent (§5).
 * - `malformed`: a stream-management element without what it needs.
 * - `enable-failed`, `resume-failed`: the server answered `<failed/>` (`condition` its child).
 * - `not-resumable`: the link was lost and the session cannot be resumed.
 * - `abandoned`: the caller gave up on the session (e.g. it could not reconnect).
 *
 * @since 0.1.0
 */
export type StreamManagementErrorReason =
  | "queue-full"
  | "ack-timeout"
  | "handled-count-too-high"
  | "malformed"
  | "enable-failed"
  | "resume-failed"
  | "not-resumable"
  | "abandoned"

/** @since 0.1.0 */
export class StreamManagementError extends Data.TaggedError("StreamManagementError")<{
  readonly reason: StreamManagementErrorReason
  readonly message: string
  /** The server's condition, with `enable-failed` and `resume-failed`. */
  readonly condition?: string | undefined
}> {}

/**
 * A stanza the caller handed over, numbered in the order it was (`seq` counts up from 0 for the machine's life).
 *
 * @since 0.1.0
 */
export interface Outbound {
  readonly seq: number
  readonly element: Element.Element
}

/** @since 0.1.0 */
export type Event =
  | { readonly _tag: "Send"; readonly element: Element.Element }
  /** The caller's burst ended: ask for its tail's acknowledgement, at once or (`deferred`) within `requestDelayMs`. */
  | { readonly _tag: "Flush"; readonly deferred?: boolean | undefined }
  | { readonly _tag: "Received"; readonly element: Element.Element }
  | { readonly _tag: "LinkLost" }
  | { readonly _tag: "Reconnected" }
  | { readonly _tag: "Abandon" }
  | { readonly _tag: "Tick" }

/**
 * - `Write`: put this element on the stream.
 * - `Accepted`: the stanza of a `Send` is kept under `seq`.
 * - `Refused`: the stanza of a `Send` was not taken.
 * - `Acknowledged`: the server has every stanza up to and including `upTo`.
 * - `Resume`: reconnect (to `location` if the server named one) and step `Reconnected` once authenticated.
 *   The machine sets no expiry of its own: even past the server's `max` (`maxResumeSeconds(state)`), a
 *   `<resume/>` is worth sending, because a server that remembers the session answers `<failed h/>`
 *   and the hand-back is then exact. A caller that stops trying steps `Abandon`.
 * - `Resumed`: the session is back; what the server lacked was written again.
 * - `LinkDead`: the link does not answer: drop it, then step `LinkLost`.
 * - `Unacknowledged`: the session is over; these stanzas, in order, may never have reached the server.
 * - `ProtocolError`: the server broke the protocol; end the stream (RFC 6120 `undefined-condition`).
 *
 * @since 0.1.0
 */
export type Action =
  | { readonly _tag: "Write"; readonly element: Element.Element }
  | { readonly _tag: "Accepted"; readonly seq: number }
  | { readonly _tag: "Refused"; readonly error: StreamManagementError }
  | { readonly _tag: "Acknowledged"; readonly upTo: number }
  | { readonly _tag: "Resume"; readonly previd: string; readonly location: string | undefined }
  | { readonly _tag: "Resumed" }
  | { readonly _tag: "LinkDead"; readonly error: StreamManagementError }
  | { readonly _tag: "Unacknowledged"; readonly stanzas: ReadonlyArray<Outbound>; readonly error: StreamManagementError }
  | { readonly _tag: "ProtocolError"; readonly error: StreamManagementError }

interface Session {
  readonly options: Options
  id: string | undefined
  resumable: boolean
  maxSeconds: number | undefined
  location: string | undefined
  /** The server's last `h`: how many of our stanzas it has. */
  acked: number
  /** Oldest first; in `Enabled` every one of them was written on the current link. */
  unacked: Array<Outbound>
  nextSeq: number
  /** How many stanzas we received since `<enabled/>` (our `h`). */
  inbound: number
  sinceRequest: number
  /** When the oldest unanswered `<r/>` went out. */
  requestedAt: number | undefined
  /** The caller's burst ended and nothing was sent since. */
  flushed: boolean
  /** When the `<r/>` for a deferred burst tail is due (`requestDelayMs` after the burst ended). */
  flushAt: number | undefined
  lastHeardAt: number
}

/**
 * Named for what the machine waits for: the server's `<enabled/>`, nothing
 * (acknowledgements as they come), the server's answer to `<resume/>`.
 *
 * @since 0.1.0
 */
export type State =
  | { readonly _tag: "AwaitingEnabled"; readonly session: Session }
  | { readonly _tag: "Enabled"; readonly session: Session }
  | { readonly _tag: "Resuming"; readonly session: Session; readonly lostAt: number }
  | { readonly _tag: "Off"; readonly error: StreamManagementError }

/** @since 0.1.0 */
export interface Step {
  readonly state: State
  readonly actions: ReadonlyArray<Action>
}

/**
 * Starts stream management on a freshly bound stream: writes `<enable/>`.
 *
 * @since 0.1.0
 */
export const make = (options: Options, now: number): Step => {
  const session: Session = {
    options,
    id: undefined,
    resumable: false,
    maxSeconds: undefined,
    location: undefined,
    acked: 0,
    unacked: [],
    nextSeq: 0,
    inbound: 0,
    sinceRequest: 0,
    // The <enable/> wants an answer like an <r/> does: a link that swallows it is dead.
    requestedAt: now,
    flushed: true,
    flushAt: undefined,
    lastHeardAt: now
  }
  return {
    state: { _tag: "AwaitingEnabled", session },
    actions: [{ _tag: "Write", element: SmElements.enable({ resume: options.resume, max: options.maxResumeSeconds }) }]
  }
}

const isStanza = (element: Element.Element) =>
  element.namespace === JABBER_CLIENT && (element.name === "message" || element.name === "presence" || element.name === "iq")

const error = (reason: StreamManagementErrorReason, message: string, condition?: string) =>
  new StreamManagementError({ reason, message, condition })

/** Ends the session: everything not acknowledged goes back to the caller, in order. */
const end = (session: Session, failure: StreamManagementError, actions: Array<Action>): State => {
  if (session.unacked.length > 0) actions.push({ _tag: "Unacknowledged", stanzas: session.unacked, error: failure })
  session.unacked = []
  return { _tag: "Off", error: failure }
}

const ask = (session: Session, now: number, actions: Array<Action>) => {
  session.flushAt = undefined
  actions.push({ _tag: "Write", element: SmElements.request })
  session.requestedAt = now
  session.sinceRequest = 0
}

/** Takes the server's `h`; false when it acknowledges more than was sent. */
const acknowledge = (session: Session, h: number, actions: Array<Action>): boolean => {
  const count = HandledCount.distance(session.acked, h)
  if (count > session.unacked.length) return false
  if (count > 0) {
    const done = session.unacked.splice(0, count)
    const last = done[done.length - 1]
    if (last !== undefined) actions.push({ _tag: "Acknowledged", upTo: last.seq })
  }
  session.acked = h
  return true
}

const tooHigh = (session: Session, h: number) =>
  error(
    "handled-count-too-high",
    `the server acknowledged ${h}, but only ${HandledCount.add(session.acked, session.unacked.length)} stanzas were sent`
  )

const send = (state: State, element: Element.Element, now: number, actions: Array<Action>): State => {
  if (state._tag === "Off") {
    actions.push({ _tag: "Refused", error: error("not-resumable", `stream management is off: ${state.error.message}`) })
    return state
  }
  const session = state.session
  if (session.unacked.length >= session.options.maxUnacked) {
    actions.push({
      _tag: "Refused",
      error: error("queue-full", `${session.unacked.length} stanzas wait for the server's acknowledgement (maxUnacked)`)
    })
    return state
  }
  const seq = session.nextSeq++
  session.unacked.push({ seq, element })
  actions.push({ _tag: "Accepted", seq })
  session.flushed = false
  // Before <enabled/> the stanza waits (so a refusal hands back only unsent ones); while the
  // link is down it waits for the resumption.
  if (state._tag !== "Enabled") return state
  actions.push({ _tag: "Write", element })
  session.sinceRequest++
  if (session.requestedAt === undefined && session.sinceRequest >= session.options.requestEvery) {
    ask(session, now, actions)
  }
  return state
}

const receive = (state: State, element: Element.Element, now: number, actions: Array<Action>): State => {
  if (state._tag === "Off") return state
  const session = state.session
  session.lastHeardAt = now
  const read = SmElements.read(element)
  if (read === undefined) {
    if (state._tag === "Enabled" && isStanza(element)) session.inbound = HandledCount.add(session.inbound, 1)
    return state
  }
  switch (read._tag) {
    case "Malformed": {
      const failure = error("malformed", read.message)
      actions.push({ _tag: "ProtocolError", error: failure })
      return end(session, failure, actions)
    }
    case "Enabled": {
      if (state._tag !== "AwaitingEnabled") return state
      session.id = read.id
      session.resumable = read.resume && read.id !== undefined
      session.maxSeconds = read.max
      session.location = read.location
      session.inbound = 0
      session.requestedAt = undefined
      for (const outbound of session.unacked) actions.push({ _tag: "Write", element: outbound.element })
      session.sinceRequest = session.unacked.length
      if (session.sinceRequest > 0 && (session.flushed || session.sinceRequest >= session.options.requestEvery)) {
        ask(session, now, actions)
      }
      return { _tag: "Enabled", session }
    }
    case "Failed": {
      if (state._tag === "AwaitingEnabled") {
        return end(session, error("enable-failed", "the server refused stream management", read.condition), actions)
      }
      if (state._tag !== "Resuming") return state
      if (read.h !== undefined && !acknowledge(session, read.h, actions)) {
        const failure = tooHigh(session, read.h)
        actions.push({ _tag: "ProtocolError", error: failure })
        return end(session, failure, actions)
      }
      return end(session, error("resume-failed", "the server could not resume the session", read.condition), actions)
    }
    case "Resumed": {
      if (state._tag !== "Resuming") return state
      if (read.previd !== session.id || !acknowledge(session, read.h, actions)) {
        const failure = read.previd !== session.id
          ? error("malformed", `<resumed/> names session ${read.previd}, not ${session.id ?? "(none)"}`)
          : tooHigh(session, read.h)
        actions.push({ _tag: "ProtocolError", error: failure })
        return end(session, failure, actions)
      }
      // What the server lacks goes out again, in order, counted anew from its h.
      for (const outbound of session.unacked) actions.push({ _tag: "Write", element: outbound.element })
      session.sinceRequest = session.unacked.length
      session.requestedAt = undefined
      actions.push({ _tag: "Resumed" })
      if (session.unacked.length > 0) ask(session, now, actions)
      return { _tag: "Enabled", session }
    }
    case "Request":
      if (state._tag === "Enabled") actions.push({ _tag: "Write", element: SmElements.answer(session.inbound) })
      return state
    case "Answer": {
      if (state._tag !== "Enabled") return state
      if (!acknowledge(session, read.h, actions)) {
        const failure = tooHigh(session, read.h)
        actions.push({ _tag: "ProtocolError", error: failure })
        return end(session, failure, actions)
      }
      session.requestedAt = undefined
      // The tail of a burst that ended while a request was out is asked for now (or when due).
      const due = session.flushed || session.sinceRequest >= session.options.requestEvery ||
        (session.flushAt !== undefined && now >= session.flushAt)
      if (session.sinceRequest > 0 && due) ask(session, now, actions)
      return state
    }
  }
}

/**
 * One step: the next state and what to do.
 *
 * @since 0.1.0
 */
export const step = (state: State, event: Event, now: number): Step => {
  const actions: Array<Action> = []
  const next = ((): State => {
    switch (event._tag) {
      case "Send":
        return send(state, event.element, now, actions)
      case "Received":
        return receive(state, event.element, now, actions)
      case "Flush": {
        const delay = state._tag === "Off" ? 0 : state.session.options.requestDelayMs ?? 0
        if (event.deferred === true && delay > 0) {
          if (state._tag !== "Off") state.session.flushAt ??= now + delay
          return state
        }
        if (state._tag !== "Enabled") {
          if (state._tag !== "Off") state.session.flushed = true
          return state
        }
        const session = state.session
        session.flushed = true
        if (session.requestedAt === undefined && session.sinceRequest > 0) ask(session, now, actions)
        return state
      }
      case "LinkLost": {
        if (state._tag === "Off") return state
        const session = state.session
        if (state._tag === "Resuming") {
          // The link of the resumption died too: try again, within the same max.
          session.requestedAt = undefined
          actions.push({ _tag: "Resume", previd: session.id ?? "", location: session.location })
          return state
        }
        if (state._tag === "Enabled" && session.resumable && session.id !== undefined) {
          // An <r/> on the dead link will never be answered: the <resume/> is what waits now.
          session.requestedAt = undefined
          actions.push({ _tag: "Resume", previd: session.id, location: session.location })
          return { _tag: "Resuming", session, lostAt: now }
        }
        return end(session, error("not-resumable", "the link was lost and the session cannot be resumed"), actions)
      }
      case "Reconnected":
        if (state._tag === "Resuming") {
          actions.push({ _tag: "Write", element: SmElements.resume(state.session.id ?? "", state.session.inbound) })
          state.session.requestedAt = now
        }
        return state
      case "Abandon":
        return state._tag === "Off" ? state : end(state.session, error("abandoned", "the session was given up"), actions)
      case "Tick":
        return tick(state, now, actions)
    }
  })()
  return { state: next, actions }
}

const tick = (state: State, now: number, actions: Array<Action>): State => {
  if (state._tag === "Off") return state
  const session = state.session
  if (session.requestedAt !== undefined && now >= session.requestedAt + session.options.ackTimeoutMs) {
    session.requestedAt = undefined
    actions.push({
      _tag: "LinkDead",
      error: error("ack-timeout", `no answer within ${session.options.ackTimeoutMs / 1000} s to our ${state._tag === "Enabled" ? "<r/>" : state._tag === "Resuming" ? "<resume/>" : "<enable/>"}`)
    })
    return state
  }
  if (state._tag === "Enabled" && session.requestedAt === undefined && session.flushAt !== undefined && now >= session.flushAt) {
    if (session.sinceRequest > 0) ask(session, now, actions)
    else session.flushAt = undefined
  }
  const idle = session.options.idleRequestMs
  if (state._tag === "Enabled" && idle !== undefined && session.requestedAt === undefined && now >= session.lastHeardAt + idle) {
    ask(session, now, actions)
  }
  return state
}

/**
 * When to step with `Tick` next, if ever: the earliest of the named deadlines.
 *
 * @since 0.1.0
 */
export const nextDeadline = (state: State): number | undefined => {
  if (state._tag === "Off") return undefined
  const session = state.session
  const deadlines = {
    // An <r/>, <enable/> or <resume/> unanswered.
    answer: session.requestedAt === undefined ? undefined : session.requestedAt + session.options.ackTimeoutMs,
    // A deferred burst tail's <r/>.
    flush: state._tag !== "Enabled" || session.requestedAt !== undefined ? undefined : session.flushAt,
    idleRequest: state._tag !== "Enabled" || session.requestedAt !== undefined || session.options.idleRequestMs === undefined
      ? undefined
      : session.lastHeardAt + session.options.idleRequestMs
  }
  const due = Object.values(deadlines).filter((at): at is number => at !== undefined)
  return due.length === 0 ? undefined : Math.min(...due)
}

/**
 * Whether an `<r/>`, `<enable/>` or `<resume/>` waits for the server's answer
 * (a driver that reads on demand reads then).
 *
 * @since 0.1.0
 */
export const awaitsAnswer = (state: State): boolean => state._tag !== "Off" && state.session.requestedAt !== undefined

/**
 * The stanzas the server has not acknowledged yet, oldest first.
 *
 * @since 0.1.0
 */
export const unacknowledged = (state: State): ReadonlyArray<Outbound> => state._tag === "Off" ? [] : state.session.unacked

/**
 * Our `h`: the stanzas received since `<enabled/>`, wrapped at 2^32.
 *
 * @since 0.1.0
 */
export const inboundCount = (state: State): number => state._tag === "Off" ? 0 : state.session.inbound

/**
 * The server's `max` for resumption, in seconds, when it named one.
 *
 * @since 0.1.0
 */
export const maxResumeSeconds = (state: State): number | undefined => state._tag === "Off" ? undefined : state.session.maxSeconds
