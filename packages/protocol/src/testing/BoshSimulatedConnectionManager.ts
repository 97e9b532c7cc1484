/**
 * A simulated BOSH connection manager for tests and benchmarks: pure, no
 * I/O, time passed in. It follows the server rules of XEP-0124 the strict
 * way ejabberd does, and records every rule the client breaks.
 *
 * - holds up to `hold` requests and answers the oldest when a newer one
 *   arrives, answers after `wait` seconds;
 * - processes requests strictly in `rid` order, buffering early ones;
 * - answers a repeated `rid` from a cache of its last `requests` responses
 *   (the same object: byte for byte), and checks the resend is byte-identical;
 * - `item-not-found` for an unknown `sid`, a `rid` outside the window or no
 *   longer cached, a wrong §15 key; the session then ends;
 * - `policy-violation` for more simultaneous requests than `requests`
 *   (one more for pause/terminate), for an empty poll that arrived after the
 *   empty answer to the previous one but sooner than `polling` after it while
 *   no request is held, and for `requests` unanswered requests ending with
 *   two empty ones that came closer than `polling` (§11, §12); arrival times
 *   are compared only for requests that came in rid order (one that
 *   overtook a lost predecessor was not sent after it);
 * - drops the session silently after `inactivity` seconds with no request held.
 *
 * A test double: it is offered from `@xmpp-core/protocol/testing`, never
 * from the main entry, because the protocol's tests and benchmark and the
 * client driver's tests all run against it.
 *
 * @since 0.1.0
 */
import * as Element from "../xml/Element.js"
import { HTTP_BIND, STREAMS } from "../xml/Namespaces.js"
import * as RidText from "../bosh/RidText.js"
import * as Sha1 from "../bosh/Sha1.js"

/**
 * @since 0.1.0
 */
export interface Config {
  readonly wait: number
  readonly hold: number
  readonly requests: number
  readonly polling: number
  readonly inactivity: number
  readonly maxpause?: number | undefined
  /** Answer with `ack` (§9.1) when the client asks for acknowledgements. */
  readonly acknowledgements?: boolean | undefined
  /** Enforce §15 keys (ejabberd) or ignore them (Prosody). */
  readonly enforceKeys?: boolean | undefined
  /** Omit `ver` from the creation response (Openfire relies on the 1.5 default). */
  readonly omitVer?: boolean | undefined
  /** Put the condition of a terminal error in the HTTP reason phrase too (ejabberd). */
  readonly conditionInReasonPhrase?: boolean | undefined
  /** Send the features after a restart in a later response, not the restart's own (Openfire). */
  readonly featuresLater?: boolean | undefined
  /** Answer the pause request itself (ejabberd does not). */
  readonly answerPause?: boolean | undefined
  /** Record the held count over time (`heldLog`); default true. */
  readonly recordHeld?: boolean | undefined
}

/**
 * One request as it reaches the manager.
 *
 * @since 0.1.0
 */
export interface IncomingRequest {
  readonly text: string
  readonly attributes: Readonly<Record<string, string>>
  readonly payloads: ReadonlyArray<Element.Element>
}

/**
 * An answer to send back on the given exchanges (more than one when the
 * client resent a request the manager was still holding).
 *
 * @since 0.1.0
 */
export interface Answer {
  readonly exchanges: ReadonlyArray<number>
  readonly rid: number
  readonly status: number
  readonly reasonPhrase: string
  readonly body: Element.Element
}

interface Waiting {
  readonly rid: number
  readonly request: IncomingRequest
  readonly exchanges: Array<number>
  readonly arrivedAt: number
  heldSince: number
}

interface Processed {
  readonly rid: number
  readonly empty: boolean
  readonly arrivedAt: number
  hadPayloads: boolean | undefined
  /** When it was answered (undefined while held). */
  answeredAt: number | undefined
}

interface Session {
  readonly sid: string
  readonly creationRid: number
  readonly acknowledgements: boolean
  lastProcessedRid: number
  lastKey: string | undefined
  readonly held: Array<Waiting>
  readonly buffered: Map<number, Waiting>
  readonly texts: Map<number, string>
  readonly cache: Map<number, Element.Element>
  previous: Processed | undefined
  idleSince: number | undefined
  inactivityMs: number
  ended: string | undefined
}

/**
 * The manager's whole state. Mutable: the simulation owns it.
 *
 * @since 0.1.0
 */
export interface ConnectionManager {
  readonly config: Config
  session: Session | undefined
  sessions: number
  /** Stanzas from the server waiting for a response to ride in. */
  readonly outbox: Array<Element.Element>
  /** Stanzas forwarded to the server, in the order forwarded. */
  readonly forwarded: Array<Element.Element>
  /** Stanzas put into responses, in order. */
  readonly delivered: Array<Element.Element>
  /** Every rule the client broke, in words. */
  readonly violations: Array<string>
  /** Every `item-not-found` or other terminal answer given, in words. */
  readonly terminations: Array<string>
  /** Held-request count samples: (time, held) whenever it changes. */
  readonly heldLog: Array<readonly [number, number]>
  /** Arrival times of new empty polls. */
  readonly emptyArrivals: Array<number>
}

/**
 * @since 0.1.0
 */
export const make = (config: Config): ConnectionManager => ({
  config,
  session: undefined,
  sessions: 0,
  outbox: [],
  forwarded: [],
  delivered: [],
  violations: [],
  terminations: [],
  heldLog: [],
  emptyArrivals: []
})

const features = (): Element.Element =>
  Element.make("features", {
    namespace: STREAMS,
    prefix: "stream",
    children: [Element.make("bind", { namespace: "urn:ietf:params:xml:ns:xmpp-bind" })]
  })

const noChildren: ReadonlyArray<Element.Element> = []

const body = (
  attributes: Record<string, string | undefined>,
  children: ReadonlyArray<Element.Element> = noChildren
): Element.Element => {
  const defined: Record<string, string> = {}
  for (const name in attributes) {
    const value = attributes[name]
    if (value !== undefined) defined[name] = value
  }
  return { name: "body", namespace: HTTP_BIND, prefix: undefined, attributes: defined, children }
}

const logHeld = (cm: ConnectionManager, now: number) => {
  if (cm.config.recordHeld === false) return
  const held = cm.session === undefined || cm.session.ended !== undefined ? 0 : cm.session.held.length
  const last = cm.heldLog[cm.heldLog.length - 1]
  if (last === undefined || last[1] !== held) cm.heldLog.push([now, held])
}

const terminal = (
  cm: ConnectionManager,
  exchanges: ReadonlyArray<number>,
  rid: number,
  condition: string
): Answer => ({
  exchanges,
  rid,
  status: 200,
  reasonPhrase: cm.config.conditionInReasonPhrase === true ? condition : "OK",
  body: body({ type: "terminate", condition })
})

/** Ends the session with a condition, answering everything it held. */
const end = (cm: ConnectionManager, session: Session, condition: string, why: string, out: Array<Answer>) => {
  if (condition === "policy-violation") cm.violations.push(why)
  cm.terminations.push(`${condition}: ${why}`)
  session.ended = condition
  for (const waiting of session.held) out.push(terminal(cm, waiting.exchanges, waiting.rid, condition))
  for (const waiting of session.buffered.values()) out.push(terminal(cm, waiting.exchanges, waiting.rid, condition))
  session.held.length = 0
  session.buffered.clear()
}

// A restart carries no payload but is not a poll: it asks for an answer (XEP-0206 §5).
const isEmptyPoll = (request: IncomingRequest): boolean =>
  request.payloads.length === 0 && request.attributes.pause === undefined &&
  request.attributes.type !== "terminate" && request.attributes["xmpp:restart"] !== "true"

// §11: the one request allowed beyond `requests`, whatever order they arrive in.
const isPauseOrTerminate = (request: IncomingRequest): boolean =>
  request.attributes.pause !== undefined || request.attributes.type === "terminate"

/** 1 when a pause or terminate is among this request and those waiting: §11's one extra request. */
const exemptSlots = (session: Session, request: IncomingRequest): number => {
  if (isPauseOrTerminate(request)) return 1
  for (const w of session.held) if (isPauseOrTerminate(w.request)) return 1
  for (const w of session.buffered.values()) if (isPauseOrTerminate(w.request)) return 1
  return 0
}

/** Answers the oldest held request with the given payloads. */
const answerOldest = (
  cm: ConnectionManager,
  session: Session,
  payloads: ReadonlyArray<Element.Element>,
  out: Array<Answer>,
  now: number
) => {
  const waiting = session.held.shift()
  if (waiting === undefined) return
  answer(cm, session, waiting, payloads, out, now)
}

const answer = (
  cm: ConnectionManager,
  session: Session,
  waiting: Waiting,
  payloads: ReadonlyArray<Element.Element>,
  out: Array<Answer>,
  now: number,
  type?: "terminate"
) => {
  // Built directly (no spread, no copy): one answer per request.
  const attributes: Record<string, string> = {}
  if (session.acknowledgements && session.lastProcessedRid !== waiting.rid) {
    attributes.ack = RidText.format(session.lastProcessedRid)
  }
  if (type !== undefined) attributes.type = type
  const response: Element.Element = {
    name: "body",
    namespace: HTTP_BIND,
    prefix: undefined,
    attributes,
    children: payloads.length === 0 ? noChildren : payloads
  }
  for (const payload of payloads) cm.delivered.push(payload)
  session.cache.set(waiting.rid, response)
  // Keep as many answers as the client may have outstanding.
  if (session.cache.size > cm.config.requests) {
    for (const rid of session.cache.keys()) {
      if (session.cache.size <= cm.config.requests) break
      session.cache.delete(rid)
    }
  }
  if (session.previous !== undefined && session.previous.rid === waiting.rid) {
    session.previous.hadPayloads = payloads.length > 0
    session.previous.answeredAt = now
  }
  if (session.held.length === 0 && session.buffered.size === 0) session.idleSince = now
  out.push({ exchanges: waiting.exchanges, rid: waiting.rid, status: 200, reasonPhrase: "OK", body: response })
}

/** Puts waiting server stanzas into held requests, and trims held requests to `hold`. */
const flush = (cm: ConnectionManager, session: Session, out: Array<Answer>, now: number) => {
  if (cm.outbox.length > 0 && session.held.length > 0) {
    const payloads = cm.outbox.splice(0, cm.outbox.length)
    answerOldest(cm, session, payloads, out, now)
  }
  while (session.held.length > cm.config.hold) answerOldest(cm, session, [], out, now)
}

const createSession = (
  cm: ConnectionManager,
  exchange: number,
  request: IncomingRequest,
  now: number,
  out: Array<Answer>
) => {
  const attributes = request.attributes
  const rid = Number(attributes.rid)
  cm.sessions++
  const acknowledgements = cm.config.acknowledgements === true && attributes.ack === "1"
  const session: Session = {
    sid: `sid-${cm.sessions}`,
    creationRid: rid,
    acknowledgements,
    lastProcessedRid: rid,
    lastKey: cm.config.enforceKeys === true ? attributes.newkey : undefined,
    held: [],
    buffered: new Map(),
    texts: new Map([[rid, request.text]]),
    cache: new Map(),
    previous: undefined,
    idleSince: now,
    inactivityMs: cm.config.inactivity * 1000,
    ended: undefined
  }
  cm.session = session
  const wait = Math.min(Number(attributes.wait ?? cm.config.wait), cm.config.wait)
  const hold = Math.min(Number(attributes.hold ?? cm.config.hold), cm.config.hold)
  const response = body({
    sid: session.sid,
    wait: String(wait),
    requests: String(cm.config.requests),
    hold: String(hold),
    polling: String(cm.config.polling),
    inactivity: String(cm.config.inactivity),
    maxpause: cm.config.maxpause === undefined ? undefined : String(cm.config.maxpause),
    ack: acknowledgements ? String(rid) : undefined,
    ver: cm.config.omitVer === true ? undefined : "1.11",
    from: attributes.to,
    "xmpp:version": "1.0",
    "xmlns:xmpp": "urn:xmpp:xbosh"
  }, attributes["xmpp:version"] === "1.0" ? [features()] : [])
  session.cache.set(rid, response)
  out.push({ exchanges: [exchange], rid, status: 200, reasonPhrase: "OK", body: response })
}

/** Processes the request next in rid order. */
const processNext = (cm: ConnectionManager, session: Session, waiting: Waiting, now: number, out: Array<Answer>) => {
  const request = waiting.request
  const attributes = request.attributes
  session.buffered.delete(waiting.rid)
  if (cm.config.enforceKeys === true && session.lastKey !== undefined) {
    const key = attributes.key
    if (key === undefined || !Sha1.isHexOf(key, session.lastKey)) {
      session.held.push(waiting)
      return end(cm, session, "item-not-found", `request ${waiting.rid} has a wrong key`, out)
    }
    session.lastKey = attributes.newkey ?? key
  }
  const empty = isEmptyPoll(request)
  if (empty) {
    cm.emptyArrivals.push(waiting.arrivedAt)
    const previous = session.previous
    const interval = cm.config.polling * 1000
    // §11 speaks of requests the client sends one after the other. One that reached us before
    // its predecessor (that one was lost and resent, or overtaken) was not sent in reply to the
    // predecessor's answer, nor after it: arrival times compare only for requests that came in
    // rid order (ejabberd, for its part, checks the interval only in polling sessions).
    const inOrder = previous !== undefined && waiting.arrivedAt >= previous.arrivedAt
    if (
      previous !== undefined && inOrder && previous.empty && previous.hadPayloads === false &&
      previous.answeredAt !== undefined && waiting.arrivedAt >= previous.answeredAt && session.held.length === 0 &&
      waiting.arrivedAt - previous.arrivedAt < interval
    ) {
      session.held.push(waiting)
      return end(
        cm,
        session,
        "policy-violation",
        `empty poll ${waiting.rid} came ${waiting.arrivedAt - previous.arrivedAt} ms after the last one, polling is ${interval} ms`,
        out
      )
    }
    // §11 exempts a pair whose first request carried payloads.
    if (
      previous !== undefined && inOrder && previous.empty && session.held.length + 1 >= cm.config.requests &&
      waiting.arrivedAt - previous.arrivedAt < interval
    ) {
      session.held.push(waiting)
      return end(
        cm,
        session,
        "policy-violation",
        `request ${waiting.rid} is the ${cm.config.requests}th unanswered and empty, ${
          waiting.arrivedAt - previous.arrivedAt
        } ms after the previous`,
        out
      )
    }
  }
  session.lastProcessedRid = waiting.rid
  session.inactivityMs = cm.config.inactivity * 1000
  for (const payload of request.payloads) cm.forwarded.push(payload)
  if (attributes.pause !== undefined) {
    while (session.held.length > 0) answerOldest(cm, session, cm.outbox.splice(0, cm.outbox.length), out, now)
    session.inactivityMs = Number(attributes.pause) * 1000
    if (cm.config.answerPause === true) answer(cm, session, waiting, [], out, now)
    else session.idleSince = now
    return
  }
  const isRestart = attributes["xmpp:restart"] === "true"
  session.previous = { rid: waiting.rid, empty, arrivedAt: waiting.arrivedAt, hadPayloads: undefined, answeredAt: undefined }
  if (attributes.type === "terminate") {
    while (session.held.length > 0) answerOldest(cm, session, [], out, now)
    answer(cm, session, waiting, [], out, now, "terminate")
    session.ended = "closed by the client"
    return
  }
  waiting.heldSince = now
  session.held.push(waiting)
  if (isRestart) {
    if (cm.config.featuresLater === true) {
      // Openfire: the restart's own answer is empty, the features come later.
      while (session.held.length > 0) answerOldest(cm, session, [], out, now)
    }
    cm.outbox.push(features())
  }
  flush(cm, session, out, now)
  if (cm.config.hold === 0) while (session.held.length > 0) answerOldest(cm, session, cm.outbox.splice(0), out, now)
}

/**
 * A request arrives on an exchange.
 *
 * @since 0.1.0
 */
export const receive = (
  cm: ConnectionManager,
  exchange: number,
  request: IncomingRequest,
  now: number
): ReadonlyArray<Answer> => {
  const out: Array<Answer> = []
  const attributes = request.attributes
  const rid = Number(attributes.rid)
  if (attributes.sid === undefined) {
    const current = cm.session
    if (current !== undefined && current.creationRid === rid && current.cache.has(rid)) {
      // The creation answer got lost; a real manager would open a second session.
      cm.session = undefined
    }
    createSession(cm, exchange, request, now, out)
    logHeld(cm, now)
    return out
  }
  const session = cm.session
  if (session === undefined || session.sid !== attributes.sid || session.ended !== undefined) {
    cm.terminations.push(`item-not-found: unknown or ended session (${session?.ended ?? "none"})`)
    out.push(terminal(cm, [exchange], rid, "item-not-found"))
    return out
  }
  const known = session.texts.get(rid)
  if (known !== undefined) {
    if (known !== request.text) cm.violations.push(`request ${rid} was resent with different bytes`)
    const cached = session.cache.get(rid)
    if (cached !== undefined) {
      // A resend shows the client is alive: the inactivity clock starts again.
      if (session.idleSince !== undefined) session.idleSince = now
      out.push({ exchanges: [exchange], rid, status: 200, reasonPhrase: "OK", body: cached })
      return out
    }
    const waiting = session.held.find((w) => w.rid === rid) ?? session.buffered.get(rid)
    if (waiting !== undefined) {
      waiting.exchanges.push(exchange)
      return out
    }
    // Like ejabberd, never answer a pause request, not even a repeated one.
    if (rid <= session.lastProcessedRid && attributes.pause !== undefined && cm.config.answerPause !== true) return out
    if (rid <= session.lastProcessedRid) {
      end(cm, session, "item-not-found", `request ${rid} repeated but its answer is no longer cached`, out)
      out.push(terminal(cm, [exchange], rid, "item-not-found"))
      logHeld(cm, now)
      return out
    }
  }
  const lastInWindow = session.lastProcessedRid + cm.config.requests
  if (rid <= session.lastProcessedRid || (rid > lastInWindow && rid > lastInWindow + exemptSlots(session, request))) {
    end(cm, session, "item-not-found", `rid ${rid} is outside the window after ${session.lastProcessedRid}`, out)
    out.push(terminal(cm, [exchange], rid, "item-not-found"))
    logHeld(cm, now)
    return out
  }
  session.texts.set(rid, request.text)
  if (session.texts.size > 4 * cm.config.requests) {
    for (const old of session.texts.keys()) {
      if (old >= rid - 4 * cm.config.requests) break
      session.texts.delete(old)
    }
  }
  const waiting: Waiting = { rid, request, exchanges: [exchange], arrivedAt: now, heldSince: now }
  const simultaneous = session.held.length + session.buffered.size + 1
  if (simultaneous > cm.config.requests && simultaneous > cm.config.requests + exemptSlots(session, request)) {
    session.held.push(waiting)
    end(
      cm,
      session,
      "policy-violation",
      `${simultaneous} simultaneous requests, ${cm.config.requests} allowed`,
      out
    )
    logHeld(cm, now)
    return out
  }
  session.buffered.set(rid, waiting)
  session.idleSince = undefined
  let next = session.buffered.get(session.lastProcessedRid + 1)
  while (next !== undefined && session.ended === undefined) {
    processNext(cm, session, next, now, out)
    next = session.buffered.get(session.lastProcessedRid + 1)
  }
  logHeld(cm, now)
  return out
}

/**
 * The server sends stanzas to the client.
 *
 * @since 0.1.0
 */
export const push = (
  cm: ConnectionManager,
  stanzas: ReadonlyArray<Element.Element>,
  now: number
): ReadonlyArray<Answer> => {
  for (const stanza of stanzas) cm.outbox.push(stanza)
  const out: Array<Answer> = []
  const session = cm.session
  if (session !== undefined && session.ended === undefined) flush(cm, session, out, now)
  logHeld(cm, now)
  return out
}

/**
 * Time passes: answer requests held for `wait`, drop an inactive session.
 *
 * @since 0.1.0
 */
export const tick = (cm: ConnectionManager, now: number): ReadonlyArray<Answer> => {
  const out: Array<Answer> = []
  const session = cm.session
  if (session === undefined || session.ended !== undefined) return out
  const waitMs = cm.config.wait * 1000
  while (session.held.length > 0 && (session.held[0]?.heldSince ?? Infinity) + waitMs <= now) {
    answerOldest(cm, session, cm.outbox.splice(0), out, now)
  }
  if (
    session.held.length === 0 && session.buffered.size === 0 && session.idleSince !== undefined &&
    now - session.idleSince > session.inactivityMs
  ) {
    session.ended = "inactivity"
    cm.terminations.push(`inactivity: nothing held for ${now - session.idleSince} ms`)
  }
  logHeld(cm, now)
  return out
}

/**
 * When the manager next needs a `tick`.
 *
 * @since 0.1.0
 */
export const nextDeadline = (cm: ConnectionManager): number | undefined => {
  const session = cm.session
  if (session === undefined || session.ended !== undefined) return undefined
  const first = session.held[0]
  if (first !== undefined) return first.heldSince + cm.config.wait * 1000
  if (session.buffered.size === 0 && session.idleSince !== undefined) return session.idleSince + session.inactivityMs + 1
  return undefined
}
