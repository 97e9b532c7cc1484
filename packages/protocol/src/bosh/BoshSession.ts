/**
 * The client side of a BOSH session (XEP-0124 with XEP-0206), as a pure
 * machine: `step(state, event, now) → { state, actions }`.
 *
 * It never reads a clock, never sleeps and never does I/O: the driver passes
 * `now` (milliseconds) with every event, performs the `Request` actions over
 * HTTP, feeds back `HttpResponse` / `HttpFailed`, and calls `step` with a
 * `Tick` when `nextDeadline` comes.
 *
 * The promise: payloads handed to `Send` reach the connection manager once
 * each and in order, payloads from the manager are handed out (`Deliver`)
 * once each and in `rid` order, whatever happens to the HTTP exchanges; or
 * the session ends with a typed `BoshError`.
 *
 * How it keeps that promise:
 * - every request keeps its exact serialized text until its response is
 *   processed; a lost request is sent again with the same `rid` and bytes,
 *   and the manager answers a repeated `rid` from its cache;
 * - responses are accepted once per `rid` and processed strictly in `rid`
 *   order; a response that arrives early waits in a buffer that can never
 *   hold more than `requests` entries (no `rid` outside the window is sent);
 * - an empty request is only sent when the manager's `polling` rule allows it,
 *   and never more than `requests` are outstanding (one more for pause or
 *   terminate, as §11 allows).
 *
 * Values: a state never changes once returned; `step` copies the small maps
 * it changes and shares the queue of unsent stanzas, each state reading only
 * its own window of it, so a burst of 100,000 stanzas stays linear.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import * as Element from "../xml/Element.js"
import { XBOSH } from "../xml/Namespaces.js"
import type { XmlError } from "../xml/XmlError.js"
import type { Action, Request } from "./Action.js"
import * as Acknowledgements from "./Acknowledgements.js"
import { BoshError } from "./BoshError.js"
import * as BodyWriter from "./BodyWriter.js"
import * as BoshOptions from "./BoshOptions.js"
import { Event } from "./Event.js"
import * as Failures from "./Failures.js"
import * as KeyChain from "./KeyChain.js"
import * as Outgoing from "./Outgoing.js"
import * as PendingQueue from "./PendingQueue.js"
import * as Polling from "./Polling.js"
import * as Responses from "./Responses.js"
import * as ResponseClassifier from "./ResponseClassifier.js"
import * as RidText from "./RidText.js"
import * as RidWindow from "./RidWindow.js"
import {
  armTimers,
  attemptDeadline,
  fork as forkSession,
  outstanding,
  pauseRecoveryMs,
  type Session,
  timeoutFor,
  unansweredPauses
} from "./Session.js"
import * as SessionParameters from "./SessionParameters.js"
import * as Timers from "./Timers.js"

export { Event }
export type { Action, Request }

// ---------------------------------------------------------------------------
// Options and inputs
// ---------------------------------------------------------------------------

/**
 * The session options (`BoshOptions`, one `Schema` with the bounds and
 * defaults): `to`, and any other field.
 *
 * @since 0.1.0
 */
export type Options = BoshOptions.Options

/**
 * Random input: at least 6 bytes for the initial `rid`, and a secret seed
 * (16 bytes or more) for the key chains. The driver draws both from a
 * secure random source.
 *
 * @since 0.1.0
 */
export interface Randomness {
  readonly rid: Uint8Array
  readonly keySeed: Uint8Array
}

/**
 * A random initial `rid` in [1, 2^48]: large and unpredictable, and far
 * enough below 2^53 - 1 that no session can push it past (§14.1).
 *
 * @since 0.1.0
 */
export const initialRid = (bytes: Uint8Array): number => {
  let value = 0
  for (let i = 0; i < 6; i++) value = value * 256 + (bytes[i] ?? 0)
  return value + 1
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/**
 * The machine's state, named for what it waits for.
 *
 * @since 0.1.0
 */
export type State =
  | { readonly _tag: "AwaitingSessionResponse"; readonly session: Session }
  | { readonly _tag: "Open"; readonly session: Session }
  | { readonly _tag: "Paused"; readonly session: Session }
  | { readonly _tag: "Closing"; readonly session: Session }
  | {
    readonly _tag: "Terminated"
    readonly error: BoshError | undefined
    /** What the manager may not have received (see `Acknowledgements`); empty after a clean close. */
    readonly unacknowledged: ReadonlyArray<Element.Element>
  }

/**
 * @since 0.1.0
 */
export interface Step {
  readonly state: State
  readonly actions: ReadonlyArray<Action>
}

/**
 * A stanza's text as it goes inside `<body/>` (see `BodyWriter`).
 *
 * @since 0.1.0
 */
export const serializeStanza = BodyWriter.serializeStanza

// ---------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------

/**
 * Starts a session: the state waiting for the creation response, and the
 * session creation request to send.
 *
 * @since 0.1.0
 */
export const make = (options: Options, randomness: Randomness, now: number): Step => {
  const settings = BoshOptions.resolve(options)
  const rid = initialRid(randomness.rid)
  let keyChain: KeyChain.KeyChain | undefined
  let newkey: string | undefined
  if (settings.keys) {
    const made = KeyChain.make(randomness.keySeed, settings.keyChainLength)
    keyChain = made.chain
    newkey = made.newkey
  }
  const attributes: Record<string, string> = {
    content: settings.content,
    hold: String(settings.hold),
    rid: RidText.format(rid),
    to: settings.to
  }
  if (settings.route !== undefined) attributes.route = settings.route
  if (settings.from !== undefined) attributes.from = settings.from
  attributes.ver = settings.ver
  attributes.wait = String(settings.wait)
  if (settings.acknowledgements) attributes.ack = "1"
  attributes["xml:lang"] = settings.lang
  // ejabberd sends no stream features without the XEP-0206 version and its namespace.
  attributes["xmpp:version"] = "1.0"
  attributes["xmlns:xmpp"] = XBOSH
  if (newkey !== undefined) attributes.newkey = newkey
  const session: Session = {
    settings,
    creationRid: rid,
    parameters: undefined,
    window: RidWindow.make(rid),
    queue: PendingQueue.make(),
    keyChain,
    lastNew: undefined,
    wanted: false,
    lastAnswerAt: now,
    paused: false,
    closeQueued: false,
    terminateRid: undefined,
    managerAck: rid - 1,
    accepted: 0,
    acknowledged: 0,
    awaitedAcknowledgement: 0,
    timers: Timers.make()
  }
  const actions: Array<Action> = []
  transmitNew(session, RidWindow.take(session.window), "create", attributes, [], "", now, actions)
  armTimers(session)
  return { state: { _tag: "AwaitingSessionResponse", session }, actions }
}

// ---------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------

const transmitNew = (
  session: Session,
  rid: number,
  kind: Outgoing.RequestKind,
  attributes: Readonly<Record<string, string>>,
  payloads: ReadonlyArray<Element.Element>,
  payloadText: string,
  now: number,
  actions: Array<Action>
): void => {
  const text = BodyWriter.writeBody(attributes, payloadText)
  // Before a session exists there is nothing to keep: creation has one deadline over every attempt.
  const giveUpAt = kind === "create" ? now + session.settings.requestTimeoutMs : Infinity
  const outgoing: Outgoing.Outgoing = {
    rid,
    kind,
    text,
    attributes,
    payloads,
    attempts: 1,
    status: "sent",
    // ejabberd never answers a pause request itself: it is not timed out.
    deadline: attemptDeadline(session, kind, giveUpAt, now),
    lastSentAt: now,
    giveUpAt
  }
  session.window.outgoing.set(rid, outgoing)
  RidWindow.trackCopy(session.window, rid, 1, outgoing.deadline === Infinity ? now + timeoutFor(session) : outgoing.deadline)
  if (kind !== "pause" && kind !== "terminate") {
    session.lastNew = { rid, empty: kind === "empty", lastSentAt: now, hadPayloads: undefined }
  }
  actions.push({ _tag: "Request", rid, attempt: 1, text, attributes, payloads })
}

const retransmit = (session: Session, outgoing: Outgoing.Outgoing, now: number, actions: Array<Action>): void => {
  outgoing.attempts += 1
  outgoing.status = "sent"
  outgoing.deadline = attemptDeadline(session, outgoing.kind, outgoing.giveUpAt, now)
  outgoing.lastSentAt = now
  RidWindow.trackCopy(session.window, outgoing.rid, outgoing.attempts, now + timeoutFor(session))
  if (session.lastNew !== undefined && session.lastNew.rid === outgoing.rid) session.lastNew.lastSentAt = now
  actions.push({
    _tag: "Request",
    rid: outgoing.rid,
    attempt: outgoing.attempts,
    text: outgoing.text,
    attributes: outgoing.attributes,
    payloads: outgoing.payloads
  })
}

/** Attributes every request after the first carries: rid, sid, keys, ack. */
const baseAttributes = (session: Session, sid: string, rid: number): Record<string, string> => {
  const attributes: Record<string, string> = { rid: RidText.format(rid), sid }
  if (session.keyChain !== undefined) {
    const next = KeyChain.next(session.keyChain)
    session.keyChain = next.chain
    if (next.keys.key !== undefined) attributes.key = next.keys.key
    if (next.keys.newkey !== undefined) attributes.newkey = next.keys.newkey
  }
  // §9.2: acknowledge the highest rid answered with all below it, unless that is rid - 1.
  const acknowledged = session.window.deliverRid - 1
  if (session.settings.acknowledgements && acknowledged < rid - 1) attributes.ack = RidText.format(acknowledged)
  return attributes
}

/** Sends what may be sent now: due retries, queued payloads, then empty requests up to `hold`. */
const pump = (session: Session, now: number, actions: Array<Action>): void => {
  for (const outgoing of session.window.outgoing.values()) {
    if (outgoing.status === "retry" && outgoing.deadline <= now) retransmit(session, outgoing, now, actions)
  }
  const parameters = session.parameters
  if (parameters === undefined || session.terminateRid !== undefined) return
  Timers.stop(session.timers, "poll")
  const queue = session.queue
  while (true) {
    const busy = outstanding(session)
    if (PendingQueue.length(queue) > 0) {
      const head = PendingQueue.peek(queue)
      if (head === undefined) return
      if (!RidWindow.allowsNew(session.window, parameters.requests, now)) return
      if (head._tag === "Restart") {
        if (busy >= parameters.requests) return
        // A restart is not a poll: it carries an instruction the manager must answer.
        session.paused = false
        PendingQueue.skip(queue)
        const rid = RidWindow.take(session.window)
        const attributes = baseAttributes(session, parameters.sid, rid)
        attributes.to = session.settings.to
        attributes["xml:lang"] = session.settings.lang
        attributes["xmpp:restart"] = "true"
        attributes["xmlns:xmpp"] = XBOSH
        transmitNew(session, rid, "restart", attributes, [], "", now, actions)
        continue
      }
      // Stanzas, possibly followed by the close marker.
      const isClose = head._tag === "Close"
      const maxChars = session.settings.maxBodyChars
      const closeNext = session.closeQueued && PendingQueue.closeWithinReach(queue, maxChars)
      const slots = parameters.requests + (isClose || closeNext ? 1 : 0)
      if (busy >= slots) return
      session.paused = false
      const batch = PendingQueue.nextBatch(queue, maxChars)
      // A terminate may use the extra slot only if it is what this request is.
      if (!batch.close && busy >= parameters.requests) return
      PendingQueue.consume(queue, batch)
      const rid = RidWindow.take(session.window)
      const attributes = baseAttributes(session, parameters.sid, rid)
      if (batch.close) {
        attributes.type = "terminate"
        session.terminateRid = rid
        transmitNew(session, rid, "terminate", attributes, batch.payloads, batch.text, now, actions)
        return
      }
      transmitNew(session, rid, "payloads", attributes, batch.payloads, batch.text, now, actions)
      continue
    }
    if (session.paused || session.closeQueued) return
    // The manager holds no pause request (it answers or drops it): those do not count towards `hold`.
    const held = busy - unansweredPauses(session)
    // A caller waits for the acknowledgement of payloads the manager may be holding: one more
    // request beyond `hold` makes it answer them (§9).
    const receiptDue = Acknowledgements.due(session)
    if ((held >= parameters.hold && held >= 1 && !receiptDue) || busy >= parameters.requests) return
    // Polling session (hold 0): one poll at a time, paced by `polling`.
    if (parameters.hold === 0 && busy > 0) return
    // Nobody waits for payloads: no poll, unless the manager would otherwise drop the session.
    const wanted = session.wanted || receiptDue
    const keepAlive = wanted || busy > 0 ? -Infinity : session.lastAnswerAt + Polling.keepAliveMs(parameters)
    if (busy > 0 && !wanted) return
    if (!RidWindow.allowsNew(session.window, parameters.requests, now)) return
    const last = session.lastNew
    const earliest = Math.max(
      Polling.earliestEmpty(last, outstanding(session), parameters, session.settings.pollingMarginMs),
      keepAlive
    )
    if (now < earliest) {
      Timers.set(session.timers, "poll", earliest)
      return
    }
    const rid = RidWindow.take(session.window)
    transmitNew(session, rid, "empty", baseAttributes(session, parameters.sid, rid), [], "", now, actions)
  }
}

/** §9.2: the manager reports a response we may have missed; resend that request now. */
const handleReport = (session: Session, body: Element.Element | undefined, now: number, actions: Array<Action>) => {
  if (body === undefined) return
  const report = Element.attribute(body, "report")
  if (report === undefined || !/^\d{1,16}$/.test(report)) return
  const outgoing = session.window.outgoing.get(Number(report))
  if (outgoing !== undefined && !session.window.received.has(outgoing.rid)) retransmit(session, outgoing, now, actions)
}

const tagFor = (session: Session): "AwaitingSessionResponse" | "Open" | "Paused" | "Closing" =>
  session.parameters === undefined
    ? "AwaitingSessionResponse"
    : session.terminateRid !== undefined || session.closeQueued
    ? "Closing"
    : session.paused
    ? "Paused"
    : "Open"

type LiveState = Exclude<State, { readonly _tag: "Terminated" }>

/** The step's result; the state value itself is kept when its tag did not change. */
const live = (previous: LiveState, actions: Array<Action>): Step => {
  const session = previous.session
  armTimers(session)
  const tag = tagFor(session)
  return { state: tag === previous._tag ? previous : { _tag: tag, session }, actions }
}

// ---------------------------------------------------------------------------
// The step
// ---------------------------------------------------------------------------

const rejected = (
  request: "Send" | "Restart" | "Pause" | "Close",
  message: string,
  stanzas: ReadonlyArray<Element.Element> = [],
  error?: XmlError
): Action => ({ _tag: "Rejected", request, message, stanzas, error })

const enqueueStanzas = (
  session: Session,
  stanzas: ReadonlyArray<Element.Element>,
  request: "Send" | "Close",
  actions: Array<Action>
): boolean => {
  if (session.queue.stanzas + stanzas.length > session.settings.maxQueuedStanzas) {
    actions.push(rejected(request, `more than ${session.settings.maxQueuedStanzas} stanzas waiting`, stanzas))
    return false
  }
  const items: Array<PendingQueue.Item> = []
  for (const element of stanzas) {
    const written = BodyWriter.serializeStanza(element)
    if (Result.isFailure(written)) {
      actions.push(rejected(request, written.failure.message, stanzas, written.failure))
      return false
    }
    items.push({ _tag: "Stanza", element, text: written.success })
  }
  for (const item of items) PendingQueue.append(session.queue, item)
  Acknowledgements.accept(session, items.length)
  return true
}

/**
 * One step of the machine.
 *
 * @since 0.1.0
 */
export const step = (given: State, event: Event, now: number): Step => {
  if (given._tag === "Terminated") {
    const state = given
    switch (event._tag) {
      case "Send":
      case "Close":
        return { state, actions: [rejected(event._tag, "the session has ended", event.stanzas)] }
      case "Restart":
      case "Pause":
        return { state, actions: [rejected(event._tag, "the session has ended")] }
      default:
        return { state, actions: [] }
    }
  }
  // The state given is never changed: the step works on its own copy.
  const state: LiveState = { ...given, session: forkSession(given.session) }
  const session = state.session
  const actions: Array<Action> = []
  switch (event._tag) {
    case "Send": {
      if (session.closeQueued) {
        actions.push(rejected("Send", "the session is closing", event.stanzas))
        return live(state, actions)
      }
      if (enqueueStanzas(session, event.stanzas, "Send", actions)) session.paused = false
      break
    }
    case "Restart": {
      if (session.closeQueued) {
        actions.push(rejected("Restart", "the session is closing"))
        return live(state, actions)
      }
      PendingQueue.append(session.queue, { _tag: "Restart" })
      break
    }
    case "Close": {
      if (session.closeQueued) {
        actions.push(rejected("Close", "the session is already closing", event.stanzas))
        return live(state, actions)
      }
      if (!enqueueStanzas(session, event.stanzas, "Close", actions)) return live(state, actions)
      PendingQueue.append(session.queue, { _tag: "Close" })
      session.closeQueued = true
      session.paused = false
      break
    }
    case "Pause": {
      const parameters = session.parameters
      if (parameters === undefined || parameters.maxpause === undefined) {
        actions.push(rejected("Pause", "the connection manager offers no pause (no 'maxpause')"))
        return live(state, actions)
      }
      if (!(event.seconds > 0 && event.seconds <= parameters.maxpause)) {
        actions.push(rejected("Pause", `a pause must be 1 to ${parameters.maxpause} seconds`))
        return live(state, actions)
      }
      if (PendingQueue.length(session.queue) > 0 || session.paused || session.closeQueued) {
        actions.push(rejected("Pause", "payloads are still waiting to be sent"))
        return live(state, actions)
      }
      // The pause is the one request allowed beyond `requests` (§11); after it, one slot must
      // stay free for the request that shows the manager moved past it (ejabberd never answers it).
      if (parameters.requests < 2 || outstanding(session) > parameters.requests - 1) {
        actions.push(rejected("Pause", "no request slot is free for a pause"))
        return live(state, actions)
      }
      // §10: the manager drops the session once the pause is over with nothing from us. A
      // pause shorter than our own detect-and-resend time could end before a lost request of
      // ours gets through, so it is refused; a longer one ends, at the latest, by our coming
      // back on our own that long before it is over (`resumeAt`, in `nextDeadline`).
      const seconds = Math.floor(event.seconds)
      const recovery = pauseRecoveryMs(session)
      if (seconds * 1000 < recovery) {
        actions.push(rejected(
          "Pause",
          `a pause shorter than ${Math.ceil(recovery / 1000)} seconds could end before a lost request is resent (wait ${
            timeoutFor(session) / 1000
          } s per attempt)`
        ))
        return live(state, actions)
      }
      const rid = RidWindow.take(session.window)
      const attributes = baseAttributes(session, parameters.sid, rid)
      attributes.pause = String(seconds)
      transmitNew(session, rid, "pause", attributes, [], "", now, actions)
      session.paused = true
      Timers.set(session.timers, "resume", now + seconds * 1000 - recovery)
      return live(state, actions)
    }
    case "Resume": {
      session.paused = false
      break
    }
    case "Receive": {
      session.wanted = true
      break
    }
    case "AwaitAcknowledgement": {
      session.awaitedAcknowledgement = Math.max(session.awaitedAcknowledgement, Math.min(event.upTo, session.accepted))
      break
    }
    case "HttpFailed": {
      RidWindow.forgetCopy(session.window, event.rid, event.attempt)
      const outgoing = session.window.outgoing.get(event.rid)
      if (
        outgoing === undefined || outgoing.status !== "sent" || session.window.received.has(event.rid) ||
        (event.attempt !== undefined && event.attempt !== outgoing.attempts)
      ) break
      const error = Failures.failed(session, outgoing, {
        reason: event.reason,
        recoverable: event.recoverable ?? true,
        cause: event.cause
      }, now)
      if (error !== undefined) return { state: Responses.end(session, error, actions), actions }
      break
    }
    case "HttpResponse": {
      RidWindow.forgetCopy(session.window, event.rid, event.attempt)
      const outgoing = session.window.outgoing.get(event.rid)
      // Once per rid: duplicates, stale answers and strangers are dropped here.
      if (outgoing === undefined || session.window.received.has(event.rid)) break
      const classified = ResponseClassifier.classify(event)
      if (classified._tag === "Recoverable") {
        if (event.attempt !== undefined && event.attempt !== outgoing.attempts) break
        if (outgoing.status !== "sent") break
        const error = Failures.failed(session, outgoing, { reason: classified.reason, recoverable: true }, now)
        if (error !== undefined) return { state: Responses.end(session, error, actions), actions }
        break
      }
      if (classified._tag === "RecoverableAll") {
        // §17.3: resend this request and every earlier one still unanswered.
        for (const other of session.window.outgoing.values()) {
          if (other.rid <= event.rid && !session.window.received.has(other.rid)) {
            if (other.attempts >= session.settings.maxAttempts) {
              const error = new BoshError({
                reason: "connection-manager-unreachable",
                message: `request ${other.rid} failed ${other.attempts} times, last: recoverable binding error`
              })
              return { state: Responses.end(session, error, actions), actions }
            }
            retransmit(session, other, now, actions)
          }
        }
        break
      }
      session.window.received.set(event.rid, classified.received)
      handleReport(session, classified.received.body, now, actions)
      const done = Responses.drain(session, actions, now)
      if (done !== undefined) return { state: done, actions }
      break
    }
    case "Tick": {
      if (session.paused && Timers.isExpired(session.timers, "resume", now)) session.paused = false
      RidWindow.oldestStraggler(session.window, now)
      for (const outgoing of session.window.outgoing.values()) {
        if (outgoing.status === "sent" && outgoing.deadline <= now && !session.window.received.has(outgoing.rid)) {
          const error = Failures.failed(session, outgoing, Failures.timedOut, now)
          if (error !== undefined) return { state: Responses.end(session, error, actions), actions }
        }
      }
      break
    }
  }
  pump(session, now, actions)
  return live(state, actions)
}

/**
 * When the machine next needs a `Tick` (ms), or undefined when nothing is timed.
 *
 * @since 0.1.0
 */
export const nextDeadline = (state: State): number | undefined =>
  state._tag === "Terminated" ? undefined : Timers.next(state.session.timers)

/**
 * The parameters the connection manager granted, once the session is open.
 *
 * @since 0.1.0
 */
export const parameters = (state: State): SessionParameters.SessionParameters | undefined =>
  state._tag === "Terminated" ? undefined : state.session.parameters

/**
 * How many requests are out (for tests and diagnostics).
 *
 * @since 0.1.0
 */
export const outstandingRequests = (state: State): number =>
  state._tag === "Terminated" ? 0 : outstanding(state.session)

/**
 * How many stanzas wait for a free request slot.
 *
 * @since 0.1.0
 */
export const queuedStanzas = (state: State): number => state._tag === "Terminated" ? 0 : state.session.queue.stanzas

/**
 * How many payloads the machine accepted so far (`Send`, `Close`): the
 * number of the last one accepted, for matching `Acknowledged.upTo`.
 *
 * @since 0.1.0
 */
export const acceptedPayloads = (state: State): number => state._tag === "Terminated" ? 0 : state.session.accepted

/**
 * The payloads accepted and not acknowledged by the manager, oldest first
 * (see `Acknowledgements`); once terminated, what it had not acknowledged
 * when the session ended.
 *
 * @since 0.1.0
 */
export const unacknowledged = (state: State): ReadonlyArray<Element.Element> =>
  state._tag === "Terminated" ? state.unacknowledged : Acknowledgements.unacknowledged(state.session)
