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
import { STREAMS, XBOSH } from "../xml/Namespaces.js"
import type { XmlError } from "../xml/XmlError.js"
import { BoshError } from "./BoshError.js"
import * as BodyWriter from "./BodyWriter.js"
import * as BoshOptions from "./BoshOptions.js"
import * as KeyChain from "./KeyChain.js"
import * as ResponseClassifier from "./ResponseClassifier.js"
import * as RidText from "./RidText.js"
import * as SessionParameters from "./SessionParameters.js"

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

type Settings = BoshOptions.Settings

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
// Events and actions
// ---------------------------------------------------------------------------

/**
 * @since 0.1.0
 */
export type Event =
  | { readonly _tag: "Send"; readonly stanzas: ReadonlyArray<Element.Element> }
  | { readonly _tag: "Restart" }
  | { readonly _tag: "Pause"; readonly seconds: number }
  | { readonly _tag: "Resume" }
  | { readonly _tag: "Close"; readonly stanzas: ReadonlyArray<Element.Element> }
  /**
   * The caller waits for payloads and holds none: the machine keeps `hold`
   * empty requests at the manager until payloads are delivered.
   */
  | { readonly _tag: "Receive" }
  | {
    readonly _tag: "HttpResponse"
    readonly rid: number
    readonly status: number
    readonly reasonPhrase?: string | undefined
    /** The parsed `<body/>`; undefined when the HTTP body was empty or unparsable. */
    readonly body: Element.Element | undefined
    /** Why the HTTP body could not be parsed, when it could not (not for an empty body). */
    readonly bodyError?: XmlError | undefined
    /** The `attempt` of the `Request` this answers, when the driver knows it. */
    readonly attempt?: number | undefined
  }
  | {
    readonly _tag: "HttpFailed"
    readonly rid: number
    /** What went wrong, in words (for the error message). */
    readonly reason: string
    /**
     * Whether sending the same request again can succeed (a reset or timed-out
     * exchange); false for what cannot recover by itself (an untrusted
     * certificate, a name that does not resolve, refused proxy credentials):
     * the session then ends at once. Default true.
     */
    readonly recoverable?: boolean | undefined
    /** The driver's typed failure, kept as the `cause` of the `BoshError` that ends the session. */
    readonly cause?: unknown
    readonly attempt?: number | undefined
  }
  | { readonly _tag: "Tick" }

/**
 * Event constructors.
 *
 * @since 0.1.0
 */
export const Event = {
  send: (stanzas: ReadonlyArray<Element.Element>): Event => ({ _tag: "Send", stanzas }),
  restart: (): Event => ({ _tag: "Restart" }),
  pause: (seconds: number): Event => ({ _tag: "Pause", seconds }),
  resume: (): Event => ({ _tag: "Resume" }),
  close: (stanzas: ReadonlyArray<Element.Element> = []): Event => ({ _tag: "Close", stanzas }),
  receive: (): Event => ({ _tag: "Receive" }),
  tick: (): Event => ({ _tag: "Tick" })
} as const

/**
 * One HTTP POST to perform. `text` is the exact body; a resend of the same
 * `rid` carries the same text. `attributes` and `payloads` describe it for
 * whoever wants to look without parsing (tests, logs).
 *
 * @since 0.1.0
 */
export interface Request {
  readonly _tag: "Request"
  readonly rid: number
  readonly attempt: number
  readonly text: string
  readonly attributes: Readonly<Record<string, string>>
  readonly payloads: ReadonlyArray<Element.Element>
}

/**
 * @since 0.1.0
 */
export type Action =
  | Request
  | { readonly _tag: "Deliver"; readonly rid: number; readonly payloads: ReadonlyArray<Element.Element> }
  | { readonly _tag: "SessionEstablished"; readonly parameters: SessionParameters.SessionParameters }
  | {
    readonly _tag: "Rejected"
    readonly request: "Send" | "Restart" | "Pause" | "Close"
    readonly message: string
    readonly stanzas: ReadonlyArray<Element.Element>
    readonly error?: XmlError | undefined
  }
  | { readonly _tag: "Closed" }
  | { readonly _tag: "Terminated"; readonly error: BoshError }

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

type RequestKind = "create" | "payloads" | "empty" | "restart" | "pause" | "terminate"

interface Outgoing {
  readonly rid: number
  readonly kind: RequestKind
  readonly text: string
  readonly attributes: Readonly<Record<string, string>>
  readonly payloads: ReadonlyArray<Element.Element>
  attempts: number
  /** "sent": an exchange is under way; "retry": waiting for `deadline` to send again. */
  status: "sent" | "retry"
  deadline: number
  lastSentAt: number
  /** Session creation: when to give up, over every attempt (Infinity for the others). */
  readonly giveUpAt: number
}

type Pending =
  | { readonly _tag: "Stanza"; readonly element: Element.Element; readonly text: string }
  | { readonly _tag: "Restart" }
  | { readonly _tag: "Close" }

interface LastNew {
  readonly rid: number
  /** Counts as an empty poll for the manager's polling rules. */
  readonly empty: boolean
  lastSentAt: number
  /** Whether its response carried payloads (undefined until processed). */
  hadPayloads: boolean | undefined
}

interface Session {
  readonly settings: Settings
  readonly creationRid: number
  parameters: SessionParameters.SessionParameters | undefined
  nextRid: number
  /** Lowest `rid` whose response is not processed yet. */
  deliverRid: number
  readonly outgoing: Map<number, Outgoing>
  readonly received: Map<number, Received>
  /**
   * The stanzas (and restart/close marks) not sent yet: this state's window
   * `[pendingHead, pendingEnd)` of an array shared with the states stepped
   * from it. A step only appends past the end in place when no other step
   * did so first; otherwise it takes its own copy (see `appendPending`).
   */
  pending: Array<Pending>
  pendingHead: number
  pendingEnd: number
  queuedStanzas: number
  keyChain: KeyChain.KeyChain | undefined
  lastNew: LastNew | undefined
  /** When a deferred empty request may go (polling rules, or the keep-alive). */
  emptyAt: number | undefined
  /**
   * Whether the caller waits for payloads (`Receive`, until a `Deliver`).
   * Empty requests go only then, or to keep the session alive: a request
   * right after an answer would otherwise race the caller's reaction to
   * it on another connection (ejabberd 23.01 stalls for good when a later
   * rid arrives first).
   */
  wanted: boolean
  /** When the last answer was processed: with nothing at the manager, its `inactivity` runs from here. */
  lastAnswerAt: number
  paused: boolean
  /** While paused: when the machine comes back by itself, so the manager hears from it before the pause ends. */
  resumeAt: number | undefined
  closeQueued: boolean
  terminateRid: number | undefined
  /** Highest `rid` the manager acknowledged receiving (§9.1). */
  managerAck: number
  /**
   * Copies of requests still on the wire: rid → attempt → when we stop waiting
   * for it. A copy of an answered request that reaches the manager late must
   * still find its answer in the manager's cache, which keeps only the last
   * `requests` answers; so no new rid goes out that would push such a copy's
   * answer out of that cache.
   */
  readonly copies: Map<number, Array<number>>
}

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
  | { readonly _tag: "Terminated"; readonly error: BoshError | undefined }

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

type Received = ResponseClassifier.Received

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
    nextRid: rid + 1,
    deliverRid: rid,
    outgoing: new Map(),
    received: new Map(),
    pending: [],
    pendingHead: 0,
    pendingEnd: 0,
    queuedStanzas: 0,
    keyChain,
    lastNew: undefined,
    emptyAt: undefined,
    wanted: false,
    lastAnswerAt: now,
    paused: false,
    resumeAt: undefined,
    closeQueued: false,
    terminateRid: undefined,
    managerAck: rid - 1,
    copies: new Map()
  }
  const actions: Array<Action> = []
  transmitNew(session, rid, "create", attributes, [], "", now, actions)
  return { state: { _tag: "AwaitingSessionResponse", session }, actions }
}

// ---------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------

const timeoutFor = (session: Session): number =>
  ((session.parameters?.wait ?? session.settings.wait) * 1000) + session.settings.timeoutMarginMs

/** Requests no manager holds: their answer comes at once, so they get the short `requestTimeoutMs`. */
const answeredAtOnce = (kind: RequestKind): boolean => kind === "create" || kind === "restart" || kind === "terminate"

/** When an attempt sent `now` stops being waited for. */
const attemptDeadline = (session: Session, kind: RequestKind, giveUpAt: number, now: number): number =>
  kind === "pause"
    ? Infinity
    : answeredAtOnce(kind)
    ? Math.min(giveUpAt, now + session.settings.requestTimeoutMs)
    : now + timeoutFor(session)

/**
 * How long a pause must last so that the manager still hears from us before it ends when
 * the exchange in flight and its first resend both hang (the same two lost exchanges the
 * session's `inactivity` is assumed to absorb): two timeouts, the two backoffs in between,
 * and a second of slack for the network.
 */
const pauseRecoveryMs = (session: Session): number =>
  2 * timeoutFor(session) + session.settings.retryBaseMs +
  Math.min(2 * session.settings.retryBaseMs, session.settings.retryMaxMs) + 1000

const transmitNew = (
  session: Session,
  rid: number,
  kind: RequestKind,
  attributes: Readonly<Record<string, string>>,
  payloads: ReadonlyArray<Element.Element>,
  payloadText: string,
  now: number,
  actions: Array<Action>
): void => {
  const text = BodyWriter.writeBody(attributes, payloadText)
  // Before a session exists there is nothing to keep: creation has one deadline over every attempt.
  const giveUpAt = kind === "create" ? now + session.settings.requestTimeoutMs : Infinity
  const outgoing: Outgoing = {
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
  session.outgoing.set(rid, outgoing)
  trackCopy(session, rid, 1, outgoing.deadline === Infinity ? now + timeoutFor(session) : outgoing.deadline)
  if (kind !== "pause" && kind !== "terminate") {
    session.lastNew = { rid, empty: kind === "empty", lastSentAt: now, hadPayloads: undefined }
  }
  actions.push({ _tag: "Request", rid, attempt: 1, text, attributes, payloads })
}

const retransmit = (session: Session, outgoing: Outgoing, now: number, actions: Array<Action>): void => {
  outgoing.attempts += 1
  outgoing.status = "sent"
  outgoing.deadline = attemptDeadline(session, outgoing.kind, outgoing.giveUpAt, now)
  outgoing.lastSentAt = now
  trackCopy(session, outgoing.rid, outgoing.attempts, now + timeoutFor(session))
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

// Copies per rid: index attempt - 1 holds when we stop waiting for it, 0 once it ended.
const trackCopy = (session: Session, rid: number, attempt: number, expires: number): void => {
  let copies = session.copies.get(rid)
  if (copies === undefined) session.copies.set(rid, copies = [])
  for (let i = copies.length; i < attempt - 1; i++) copies.push(0)
  copies[attempt - 1] = expires
}

const noCopyLeft = (copies: Array<number>): boolean => {
  for (const expires of copies) if (expires > 0) return false
  return true
}

/** An exchange ended (answered or failed): that copy is off the wire. */
const forgetCopy = (session: Session, rid: number, attempt: number | undefined): void => {
  const copies = session.copies.get(rid)
  if (copies === undefined) return
  if (attempt === undefined) copies.fill(0)
  else if (attempt >= 1 && attempt <= copies.length) copies[attempt - 1] = 0
  if (noCopyLeft(copies)) session.copies.delete(rid)
}

/** Drops copies we no longer wait for; returns the lowest answered rid with a copy still out. */
const oldestStraggler = (session: Session, now: number): number => {
  let oldest = Infinity
  for (const [rid, copies] of session.copies) {
    for (let i = 0; i < copies.length; i++) if ((copies[i] ?? 0) <= now) copies[i] = 0
    if (noCopyLeft(copies)) session.copies.delete(rid)
    else if (rid < session.deliverRid && rid < oldest) oldest = rid
  }
  return oldest
}

/** Whether a new rid may go out without evicting a late copy's answer from the manager's cache. */
const windowAllows = (session: Session, parameters: SessionParameters.SessionParameters, now: number): boolean =>
  session.copies.size === 0 || session.nextRid - parameters.requests < oldestStraggler(session, now)

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
  const acknowledged = session.deliverRid - 1
  if (session.settings.acknowledgements && acknowledged < rid - 1) attributes.ack = RidText.format(acknowledged)
  return attributes
}

/**
 * Requests the manager has not answered as far as the client knows. An unanswered pause
 * request counts too: until a later answer shows it was processed, the manager's rid window
 * has not moved past it.
 */
const outstanding = (session: Session): number => session.nextRid - session.deliverRid

const unansweredPauses = (session: Session): number => {
  let count = 0
  for (const outgoing of session.outgoing.values()) if (outgoing.kind === "pause") count++
  return count
}

/** Earliest time an empty request may go without breaking §11 / §12 polling rules. */
const earliestEmpty = (session: Session, parameters: SessionParameters.SessionParameters): number => {
  const last = session.lastNew
  if (last === undefined) return -Infinity
  const interval = parameters.polling * 1000 + session.settings.pollingMarginMs
  let earliest = -Infinity
  // Two empty polls in a row closer than `polling`, the first answered with nothing.
  if (last.empty && last.hadPayloads !== true) earliest = last.lastSentAt + interval
  // `requests` unanswered requests whose last two came closer than `polling`.
  if (outstanding(session) + 1 >= parameters.requests) earliest = Math.max(earliest, last.lastSentAt + interval)
  return earliest
}

const pendingLength = (session: Session): number => session.pendingEnd - session.pendingHead

// Gives the session an array of its own holding just its window (and `front` before it).
const ownPending = (session: Session, front: ReadonlyArray<Pending> = []): void => {
  session.pending = [...front, ...session.pending.slice(session.pendingHead, session.pendingEnd)]
  session.pendingHead = 0
  session.pendingEnd = session.pending.length
}

// Appending in place is invisible to older states, which read only up to
// their own end; a second append at the same place (a step replayed from an
// older state) must not overwrite what the first one wrote.
const appendPending = (session: Session, item: Pending): void => {
  if (session.pending.length !== session.pendingEnd) ownPending(session)
  session.pending.push(item)
  session.pendingEnd += 1
}

const compactPending = (session: Session): void => {
  if (session.pendingHead > 1024 && session.pendingHead * 2 > session.pendingEnd) ownPending(session)
}

/** Sends what may be sent now: due retries, queued payloads, then empty requests up to `hold`. */
const pump = (session: Session, now: number, actions: Array<Action>): void => {
  for (const outgoing of session.outgoing.values()) {
    if (outgoing.status === "retry" && outgoing.deadline <= now) retransmit(session, outgoing, now, actions)
  }
  const parameters = session.parameters
  if (parameters === undefined || session.terminateRid !== undefined) return
  session.emptyAt = undefined
  while (true) {
    const busy = outstanding(session)
    if (pendingLength(session) > 0) {
      const head = session.pending[session.pendingHead]
      if (head === undefined) return
      if (!windowAllows(session, parameters, now)) return
      if (head._tag === "Restart") {
        if (busy >= parameters.requests) return
        // A restart is not a poll: it carries an instruction the manager must answer.
        session.paused = false
        session.pendingHead++
        const rid = session.nextRid++
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
      const slots = parameters.requests + (isClose || closeWithinReach(session) ? 1 : 0)
      if (busy >= slots) return
      session.paused = false
      let index = session.pendingHead
      let payloadText = ""
      const payloads: Array<Element.Element> = []
      let close = false
      while (index < session.pendingEnd) {
        const item = session.pending[index]
        if (item === undefined || item._tag === "Restart") break
        if (item._tag === "Close") {
          close = true
          index++
          break
        }
        if (payloads.length > 0 && payloadText.length + item.text.length > session.settings.maxBodyChars) break
        payloads.push(item.element)
        payloadText += item.text
        index++
      }
      // A terminate may use the extra slot only if it is what this request is.
      if (!close && busy >= parameters.requests) return
      session.pendingHead = index
      session.queuedStanzas -= payloads.length
      compactPending(session)
      const rid = session.nextRid++
      const attributes = baseAttributes(session, parameters.sid, rid)
      if (close) {
        attributes.type = "terminate"
        session.terminateRid = rid
        transmitNew(session, rid, "terminate", attributes, payloads, payloadText, now, actions)
        return
      }
      transmitNew(session, rid, "payloads", attributes, payloads, payloadText, now, actions)
      continue
    }
    if (session.paused || session.closeQueued) return
    // The manager holds no pause request (it answers or drops it): those do not count towards `hold`.
    const held = busy - unansweredPauses(session)
    if ((held >= parameters.hold && held >= 1) || busy >= parameters.requests) return
    // Polling session (hold 0): one poll at a time, paced by `polling`.
    if (parameters.hold === 0 && busy > 0) return
    // Nobody waits for payloads: no poll, unless the manager would otherwise drop the session.
    const keepAlive = session.wanted || busy > 0 ? -Infinity : session.lastAnswerAt + keepAliveMs(parameters)
    if (busy > 0 && !session.wanted) return
    if (!windowAllows(session, parameters, now)) return
    const earliest = Math.max(earliestEmpty(session, parameters), keepAlive)
    if (now < earliest) {
      session.emptyAt = earliest
      return
    }
    const rid = session.nextRid++
    transmitNew(session, rid, "empty", baseAttributes(session, parameters.sid, rid), [], "", now, actions)
  }
}

/**
 * How long the machine leaves the manager without a request when nobody waits
 * for payloads: half its `inactivity` (or of `wait` when it names none), and
 * never sooner than `polling` allows.
 */
const keepAliveMs = (parameters: SessionParameters.SessionParameters): number =>
  Math.max((parameters.inactivity ?? parameters.wait) * 500, parameters.polling * 1000)

/** Whether the close marker would ride in the next request (so it may use the extra slot). */
const closeWithinReach = (session: Session): boolean => {
  if (!session.closeQueued) return false
  let chars = 0
  for (let index = session.pendingHead; index < session.pendingEnd; index++) {
    const item = session.pending[index]
    if (item === undefined || item._tag === "Restart") return false
    if (item._tag === "Close") return true
    chars += item.text.length
    if (chars > session.settings.maxBodyChars && index > session.pendingHead) return false
  }
  return false
}

// ---------------------------------------------------------------------------
// Failures and retries
// ---------------------------------------------------------------------------

const terminate = (error: BoshError, actions: Array<Action>): State => {
  actions.push({ _tag: "Terminated", error })
  return { _tag: "Terminated", error }
}

/** A request got no usable answer: schedule the same bytes again, or give up. */
/** Why an exchange brought no usable answer. */
interface Failure {
  readonly reason: string
  readonly recoverable: boolean
  readonly cause?: unknown
}

const timedOut: Failure = { reason: "timed out", recoverable: true }

const requestName: Readonly<Record<RequestKind, string>> = {
  create: "the session creation request",
  restart: "the restart request",
  terminate: "the terminate request",
  payloads: "request",
  empty: "request",
  pause: "the pause request"
}

const unreachable = (message: string, failure: Failure): BoshError =>
  new BoshError({ reason: "connection-manager-unreachable", message, cause: failure.cause })

const failed = (session: Session, outgoing: Outgoing, failure: Failure, now: number): BoshError | undefined => {
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
    return unreachable(`no answer to ${requestName[outgoing.kind]} within ${within} s${last}`, failure)
  }
  outgoing.status = "retry"
  outgoing.deadline = now + backoff
  // A pause request is never answered by ejabberd, so its loss only shows when a later request
  // gets stuck behind it: send it again too (§17.3: resend the unanswered requests before).
  // Likewise when a request the manager answers at once gets no answer: the manager takes
  // requests in rid order, so an earlier request lost on the way holds it back.
  const stuckBehind = failure === timedOut && answeredAtOnce(outgoing.kind)
  for (const earlier of session.outgoing.values()) {
    if (
      (earlier.kind === "pause" || stuckBehind) && earlier.rid < outgoing.rid && earlier.status === "sent" &&
      earlier.attempts < session.settings.maxAttempts && !session.received.has(earlier.rid)
    ) {
      earlier.status = "retry"
      earlier.deadline = now + backoff
    }
  }
  return undefined
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

const noPayloads: ReadonlyArray<Element.Element> = []

// Most answers are empty: no array for them.
const stanzaChildren = (body: Element.Element): ReadonlyArray<Element.Element> =>
  body.children.length === 0 ? noPayloads : Element.elements(body)

/** Processes one response in rid order. Returns the next state tag, or a terminal state. */
const processResponse = (
  session: Session,
  rid: number,
  received: Received,
  actions: Array<Action>,
  now: number
): State | undefined => {
  const outgoing = session.outgoing.get(rid)
  session.outgoing.delete(rid)
  session.received.delete(rid)
  session.deliverRid = rid + 1
  const body = received.body
  session.lastAnswerAt = now
  const payloads = body === undefined ? noPayloads : stanzaChildren(body)
  if (session.lastNew !== undefined && session.lastNew.rid === rid) session.lastNew.hadPayloads = payloads.length > 0
  if (received.terminal !== undefined) {
    const condition = received.terminal.reason
    // After our terminate went through the manager forgets the session: a resend it no
    // longer knows (the terminate itself, or a request answered before it) means closed.
    if (condition === "item-not-found" && session.terminateRid !== undefined && (outgoing?.attempts ?? 1) > 1) {
      actions.push({ _tag: "Closed" })
      return { _tag: "Terminated", error: undefined }
    }
    // XEP-0124 §17.2 `other-request`: another request ended the session. A request
    // held when our terminate arrived gets it (ejabberd 23.01 answers it so, and
    // sends it ahead of the terminate's own answer): our close went through.
    if (condition === "other-request" && session.terminateRid !== undefined && rid < session.terminateRid) {
      if (payloads.length > 0) actions.push({ _tag: "Deliver", rid, payloads })
      actions.push({ _tag: "Closed" })
      return { _tag: "Terminated", error: undefined }
    }
    const deliverable = payloads.filter((element) =>
      !(condition === "remote-stream-error" && element.name === "error" && element.namespace === STREAMS) &&
      !(condition === "see-other-uri" && element.name === "uri")
    )
    if (deliverable.length > 0) actions.push({ _tag: "Deliver", rid, payloads: deliverable })
    return terminate(received.terminal, actions)
  }
  if (body === undefined) return undefined
  if (outgoing?.kind === "create") {
    const parsed = SessionParameters.parse(body, {
      rid: session.creationRid,
      wait: session.settings.wait,
      hold: session.settings.hold
    })
    if (Result.isFailure(parsed)) return terminate(parsed.failure, actions)
    session.parameters = parsed.success
    actions.push({ _tag: "SessionEstablished", parameters: parsed.success })
  }
  if (payloads.length > 0) {
    actions.push({ _tag: "Deliver", rid, payloads })
    session.wanted = false
  }
  const ack = Element.attribute(body, "ack")
  if (ack !== undefined && /^\d{1,16}$/.test(ack)) session.managerAck = Math.max(session.managerAck, Number(ack))
  else if (session.parameters?.acknowledgements === true) session.managerAck = Math.max(session.managerAck, rid)
  if (Element.attribute(body, "type") === "terminate") {
    if (session.terminateRid !== undefined) {
      actions.push({ _tag: "Closed" })
      return { _tag: "Terminated", error: undefined }
    }
    return terminate(
      new BoshError({
        reason: "terminated-by-connection-manager",
        message: "the connection manager ended the session without a condition"
      }),
      actions
    )
  }
  if (rid === session.terminateRid) {
    actions.push({ _tag: "Closed" })
    return { _tag: "Terminated", error: undefined }
  }
  return undefined
}

/** §9.2: the manager reports a response we may have missed; resend that request now. */
const handleReport = (session: Session, body: Element.Element | undefined, now: number, actions: Array<Action>) => {
  if (body === undefined) return
  const report = Element.attribute(body, "report")
  if (report === undefined || !/^\d{1,16}$/.test(report)) return
  const outgoing = session.outgoing.get(Number(report))
  if (outgoing !== undefined && !session.received.has(outgoing.rid)) retransmit(session, outgoing, now, actions)
}

/** Processes every response that is next in rid order. */
const drain = (session: Session, actions: Array<Action>, now: number): State | undefined => {
  while (true) {
    const received = session.received.get(session.deliverRid)
    if (received !== undefined) {
      const done = processResponse(session, session.deliverRid, received, actions, now)
      if (done !== undefined) return done
      continue
    }
    // An unanswered pause request is passed over once a later response shows the manager moved on.
    const outgoing = session.outgoing.get(session.deliverRid)
    if (outgoing?.kind === "pause" && session.received.size > 0) {
      session.outgoing.delete(session.deliverRid)
      session.deliverRid++
      continue
    }
    return undefined
  }
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
  const tag = tagFor(session)
  return { state: tag === previous._tag ? previous : { _tag: tag, session }, actions }
}

// A copy of everything a step may change, so that a state value, once
// returned, stays what it was (the caller may keep it, compare it, replay
// from it). The maps hold at most `requests` entries; the queue of stanzas
// not yet sent is shared, each state reading only its own window of it.
const copyOutgoing = (request: Outgoing): Outgoing => ({
  rid: request.rid,
  kind: request.kind,
  text: request.text,
  attributes: request.attributes,
  payloads: request.payloads,
  attempts: request.attempts,
  status: request.status,
  deadline: request.deadline,
  lastSentAt: request.lastSentAt,
  giveUpAt: request.giveUpAt
})

const forkSession = (session: Session): Session => {
  const outgoing = new Map<number, Outgoing>()
  session.outgoing.forEach((request, rid) => outgoing.set(rid, copyOutgoing(request)))
  const copies = new Map<number, Array<number>>()
  session.copies.forEach((attempts, rid) => copies.set(rid, attempts.slice()))
  const received = new Map<number, Received>()
  session.received.forEach((value, rid) => received.set(rid, value))
  const lastNew = session.lastNew
  // Written field by field, in the order `make` uses, so every session shares one object shape.
  const forked: Session = {
    settings: session.settings,
    creationRid: session.creationRid,
    parameters: session.parameters,
    nextRid: session.nextRid,
    deliverRid: session.deliverRid,
    outgoing,
    received,
    // Shared: each state reads only its own window of it.
    pending: session.pending,
    pendingHead: session.pendingHead,
    pendingEnd: session.pendingEnd,
    queuedStanzas: session.queuedStanzas,
    keyChain: session.keyChain,
    lastNew: lastNew === undefined
      ? undefined
      : { rid: lastNew.rid, empty: lastNew.empty, lastSentAt: lastNew.lastSentAt, hadPayloads: lastNew.hadPayloads },
    emptyAt: session.emptyAt,
    wanted: session.wanted,
    lastAnswerAt: session.lastAnswerAt,
    paused: session.paused,
    resumeAt: session.resumeAt,
    closeQueued: session.closeQueued,
    terminateRid: session.terminateRid,
    managerAck: session.managerAck,
    copies
  }
  return forked
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
  if (session.queuedStanzas + stanzas.length > session.settings.maxQueuedStanzas) {
    actions.push(rejected(request, `more than ${session.settings.maxQueuedStanzas} stanzas waiting`, stanzas))
    return false
  }
  const items: Array<Pending> = []
  for (const element of stanzas) {
    const written = BodyWriter.serializeStanza(element)
    if (Result.isFailure(written)) {
      actions.push(rejected(request, written.failure.message, stanzas, written.failure))
      return false
    }
    items.push({ _tag: "Stanza", element, text: written.success })
  }
  for (const item of items) appendPending(session, item)
  session.queuedStanzas += items.length
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
      appendPending(session, { _tag: "Restart" })
      break
    }
    case "Close": {
      if (session.closeQueued) {
        actions.push(rejected("Close", "the session is already closing", event.stanzas))
        return live(state, actions)
      }
      if (!enqueueStanzas(session, event.stanzas, "Close", actions)) return live(state, actions)
      appendPending(session, { _tag: "Close" })
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
      if (pendingLength(session) > 0 || session.paused || session.closeQueued) {
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
      const rid = session.nextRid++
      const attributes = baseAttributes(session, parameters.sid, rid)
      attributes.pause = String(seconds)
      transmitNew(session, rid, "pause", attributes, [], "", now, actions)
      session.paused = true
      session.resumeAt = now + seconds * 1000 - recovery
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
    case "HttpFailed": {
      forgetCopy(session, event.rid, event.attempt)
      const outgoing = session.outgoing.get(event.rid)
      if (
        outgoing === undefined || outgoing.status !== "sent" || session.received.has(event.rid) ||
        (event.attempt !== undefined && event.attempt !== outgoing.attempts)
      ) break
      const error = failed(session, outgoing, {
        reason: event.reason,
        recoverable: event.recoverable ?? true,
        cause: event.cause
      }, now)
      if (error !== undefined) return { state: terminate(error, actions), actions }
      break
    }
    case "HttpResponse": {
      forgetCopy(session, event.rid, event.attempt)
      const outgoing = session.outgoing.get(event.rid)
      // Once per rid: duplicates, stale answers and strangers are dropped here.
      if (outgoing === undefined || session.received.has(event.rid)) break
      const classified = ResponseClassifier.classify(event)
      if (classified._tag === "Recoverable") {
        if (event.attempt !== undefined && event.attempt !== outgoing.attempts) break
        if (outgoing.status !== "sent") break
        const error = failed(session, outgoing, { reason: classified.reason, recoverable: true }, now)
        if (error !== undefined) return { state: terminate(error, actions), actions }
        break
      }
      if (classified._tag === "RecoverableAll") {
        // §17.3: resend this request and every earlier one still unanswered.
        for (const other of session.outgoing.values()) {
          if (other.rid <= event.rid && !session.received.has(other.rid)) {
            if (other.attempts >= session.settings.maxAttempts) {
              const error = new BoshError({
                reason: "connection-manager-unreachable",
                message: `request ${other.rid} failed ${other.attempts} times, last: recoverable binding error`
              })
              return { state: terminate(error, actions), actions }
            }
            retransmit(session, other, now, actions)
          }
        }
        break
      }
      session.received.set(event.rid, classified.received)
      handleReport(session, classified.received.body, now, actions)
      const done = drain(session, actions, now)
      if (done !== undefined) return { state: done, actions }
      break
    }
    case "Tick": {
      if (session.paused && session.resumeAt !== undefined && now >= session.resumeAt) session.paused = false
      oldestStraggler(session, now)
      for (const outgoing of session.outgoing.values()) {
        if (outgoing.status === "sent" && outgoing.deadline <= now && !session.received.has(outgoing.rid)) {
          const error = failed(session, outgoing, timedOut, now)
          if (error !== undefined) return { state: terminate(error, actions), actions }
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
export const nextDeadline = (state: State): number | undefined => {
  if (state._tag === "Terminated") return undefined
  const session = state.session
  let deadline = session.emptyAt ?? Infinity
  if (session.paused && session.resumeAt !== undefined && session.resumeAt < deadline) deadline = session.resumeAt
  for (const outgoing of session.outgoing.values()) {
    if (!session.received.has(outgoing.rid) && outgoing.deadline < deadline) deadline = outgoing.deadline
  }
  for (const [rid, copies] of session.copies) {
    if (rid >= session.deliverRid) continue
    for (const expires of copies) if (expires > 0 && expires < deadline) deadline = expires
  }
  return deadline === Infinity ? undefined : deadline
}

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
export const queuedStanzas = (state: State): number => state._tag === "Terminated" ? 0 : state.session.queuedStanzas
