/**
 * A session kept up with XEP-0198 stream management: the driver of the
 * protocol's `StreamManagement` machine against links (transports) that
 * come and go.
 *
 * - Every stanza the caller hands over is kept until the server
 *   acknowledges it (`<a h/>`, asked for in batches); `sendAcknowledged`
 *   resolves then. Inbound stanzas are counted and `<r/>` answered.
 * - A lost link (reset, or an `<r/>` unanswered within `ackTimeout`) is
 *   resumed when the server offered resumption and `reconnect` is set:
 *   backoff with jitter, `<resume previd h/>` in place of binding, and what
 *   the server lacked is sent again, once. Inbound stanzas the server
 *   resends are the ones we had not counted, so none is lost or repeated.
 * - Without stream management, BOSH still has receipts of its own (the
 *   manager answered the request that carried a stanza, XEP-0124 §9):
 *   `sendAcknowledged` resolves on them, and a lost BOSH session knows what
 *   the server may not have. TCP without stream management knows nothing.
 * - When a session cannot go on, the stanzas never acknowledged come back
 *   to the caller in order: in `ResumeFailed` (a new session was bound) or
 *   in the error that ends the session. Nothing is dropped silently.
 *
 * One lock orders the machine's steps and the writes they ask for, so
 * elements reach the link in the machine's order. Inbound stanzas are
 * counted as they are queued for the caller: the count is what this
 * library took responsibility for.
 *
 * @since 0.1.0
 */
import {
  Element,
  Jid,
  Namespaces,
  type Negotiation,
  StreamManagement
} from "@xmpp-core/protocol"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Latch from "effect/Latch"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import type { SaslCrypto } from "../sasl/SaslCrypto.js"
import type * as Transport from "../transport/Transport.js"
import { TransportError } from "../transport/TransportError.js"
import { ProxyError } from "../net/ProxyError.js"
import { TlsError } from "../net/TlsError.js"
import { XmppClientError } from "../XmppClientError.js"
import type { ConnectionEvent } from "./ConnectionEvent.js"
import * as IqCorrelation from "./IqCorrelation.js"
import * as Login from "./Login.js"
import * as SessionSettings from "./SessionSettings.js"
import * as Stanzas from "./Stanzas.js"

/**
 * @since 0.1.0
 */
export interface Options<R> {
  readonly settings: Login.Settings
  /** Absent: no stream management (a reconnect then starts a new session). */
  readonly streamManagement: SessionSettings.StreamManagementSettings | undefined
  /** Absent: a lost link ends the session. */
  readonly reconnect: SessionSettings.ReconnectSettings | undefined
  /** Absent: no pings. */
  readonly ping?: SessionSettings.PingSettings | undefined
  /** Opens a new link; its resources live in the scope it is given. */
  readonly open: Effect.Effect<Transport.Transport, XmppClientError, R | Scope.Scope>
  /** Stanzas received and not yet taken by the caller; reading stops beyond (default 1,000). */
  readonly inboundCapacity?: number | undefined
}

/**
 * The kept-up session, as `XmppClient` offers it.
 *
 * @since 0.1.0
 */
export interface ManagedSession {
  readonly jid: Jid.Jid
  readonly transport: Transport.Transport["kind"]
  readonly mechanism: Negotiation.Bound["mechanism"]
  readonly send: (stanza: Element.Element) => Effect.Effect<void, XmppClientError>
  readonly sendAcknowledged: (stanza: Element.Element) => Effect.Effect<void, XmppClientError>
  readonly iq: (request: Element.Element, options?: IqOptions) => Effect.Effect<Element.Element, XmppClientError>
  readonly stanzas: Stream.Stream<Element.Element, XmppClientError>
  readonly events: Stream.Stream<ConnectionEvent>
  readonly close: Effect.Effect<void, XmppClientError>
}

/** @since 0.1.0 */
export type IqOptions = IqCorrelation.IqOptions

interface Link {
  readonly transport: Transport.Transport
  readonly scope: Scope.Closeable
  /** Completed when the session drops the link (found dead, or replaced), so its reader stops. */
  readonly dropped: Deferred.Deferred<XmppClientError>
  /**
   * What the stream-management machine asked to write, in its order, for
   * this link's own writer: the lock is never held across a network write,
   * so a server that waits for us to read while we wait for it to read
   * cannot deadlock the two. Ended by `close`: the writer writes what is
   * left, then stops, and only then does the stream's close go out.
   */
  readonly outbox: Queue.Queue<Element.Element, Cause.Done>
  /** The writer of `outbox`: done once the outbox was ended and written, or a write failed. */
  readonly writer: Fiber.Fiber<void>
}

const offersStreamManagement = (features: Element.Element) =>
  Element.child(features, "sm", Namespaces.STREAM_MANAGEMENT) !== undefined

/** The network failure under a client error, if there is one (client error → transport error → its cause). */
const networkCause = (error: XmppClientError): unknown => {
  const transport = error.cause
  return transport instanceof TransportError ? transport.cause : undefined
}

// Failures that would only happen again: a refused login, a certificate that is not trusted or
// not for the name, a proxy refusing our credentials, a resource taken over by another login, a
// refused negotiation. A TLS handshake cut off by the network (or timed out), a name that does
// not resolve while the network is down, a refused connection: network failures, worth another try.
const retryable = (error: XmppClientError) => {
  if (error.reason !== "ConnectFailed" && error.reason !== "ConnectionLost") return false
  const cause = networkCause(error)
  if (cause instanceof ProxyError) return !proxyCredentialReasons.has(cause.reason)
  if (cause instanceof TlsError) return cause.reason === "HandshakeFailed" || cause.reason === "TimedOut"
  return error.condition !== "TlsFailed"
}

const proxyCredentialReasons: ReadonlySet<ProxyError["reason"]> = new Set(["AuthRequired", "AuthFailed", "NoAcceptableMethods"])

/** The longest `close` waits for the transport's own close before dropping the connection. */
const closeDeadline = Duration.seconds(5)

const lost = (message: string, cause?: unknown) => new XmppClientError({ reason: "ConnectionLost", message, cause })

/**
 * Connects, logs in, enables stream management when the server offers it,
 * and keeps the session up until `close` or the scope ends.
 *
 * @since 0.1.0
 */
export const make = <R>(
  options: Options<R>
): Effect.Effect<ManagedSession, XmppClientError, R | Scope.Scope | SaslCrypto> =>
  Effect.gen(function*() {
    const parent = yield* Scope.Scope
    // Every link's scope is forked from this one, made before `close` is registered as a finalizer:
    // finalizers run last-in first-out, so a link made later (a reconnect) is still open when the
    // session's close sends its last words on it, and closes after.
    const links = yield* Scope.fork(parent)
    const smOptions = options.streamManagement === undefined
      ? undefined
      : SessionSettings.streamManagementOptions(options.streamManagement, options.reconnect !== undefined)
    const lock = yield* Semaphore.make(1)
    const locked = lock.withPermits(1)
    const inbound = yield* Queue.bounded<Element.Element, XmppClientError | Cause.Done>(options.inboundCapacity ?? 1_000)
    const events = yield* PubSub.sliding<ConnectionEvent>(64)
    const wake = yield* Queue.sliding<void>(1)
    /** The deadline the timer fiber sleeps for (see `timers`). */
    let armedFor: number | undefined
    /** Told after every stream-management step while closing: `close` waits on it for stanzas still held back. */
    const stepped = yield* Queue.sliding<void>(1)
    const waiters = new Map<number, Deferred.Deferred<void, XmppClientError>>()
    // BOSH reads on demand: a poll goes out only when the caller waits for a stanza (one token
    // each) or an iq answer, never ahead of the caller's reply to what it just got, which would
    // put two requests back to back (ejabberd 23.01 may swap them: see the transport README).
    let demand = 0
    const wanted = yield* Latch.make(false)
    // Stream management waiting for an answer (<enabled/>, <a/>, <resumed/>) is demand too.
    const awaitingAnswer = () => sm !== undefined && (waiters.size > 0 || StreamManagement.awaitsAnswer(sm))
    const updateDemand = () =>
      demand > 0 || iqs.size() > 0 || awaitingAnswer() ? wanted.openUnsafe() : wanted.closeUnsafe()
    /** `iq` requests waiting for their answers. */
    const iqs = IqCorrelation.make(() => updateDemand())

    let sm: StreamManagement.State | undefined
    let link: Link | undefined
    let jid: Jid.Jid = yield* Effect.fromResult(Login.account(options.settings))
    let ended: XmppClientError | undefined
    let closing = false
    let waitingSends = 0
    let handedBack: ReadonlyArray<Element.Element> = []
    let handBackError: XmppClientError | undefined
    /** Completed (and replaced) whenever acknowledgements make room in stream management's queue, or the session ends. */
    let room = Deferred.makeUnsafe<void>()
    const roomMade = () => {
      Deferred.doneUnsafe(room, Exit.void)
      room = Deferred.makeUnsafe<void>()
    }
    /** Whether the last link lost, without stream management, could tell what it had not delivered (BOSH). */
    let lostLinkHadReceipts = false
    // SCRAM keys of the last login: a reconnect skips PBKDF2 (RFC 5802 §5.1 allows caching them).
    let scramKeys: Negotiation.Bound["scramKeys"]

    const publish = (event: ConnectionEvent) => PubSub.publish(events, event)

    /** Drops a link: its reader stops with `error` and its connection closes. */
    const drop = (dropped: Link, error: XmppClientError) =>
      Effect.andThen(Deferred.succeed(dropped.dropped, error), Scope.close(dropped.scope, Exit.void))

    /** Opens a link and logs in on it (resuming with `resume`); the link closes if the login fails. */
    const openLink = (resume: Negotiation.Config["resume"]) =>
      Effect.gen(function*() {
        const scope = yield* Scope.fork(links)
        const opened = yield* Effect.exit(Effect.gen(function*() {
          const transport = yield* Scope.provide(options.open, scope)
          const bound = yield* Login.login(transport, options.settings, resume, scramKeys)
          const dropped = yield* Deferred.make<XmppClientError>()
          const outbox = yield* Queue.unbounded<Element.Element, Cause.Done>()
          // A write that fails shows up as a lost link to the reader; the writer just stops.
          const writer = yield* Effect.forkIn(
            // All that waits goes in one write (one BOSH request: a stanza and its <r/> together).
            Effect.ignore(Effect.forever(Effect.flatMap(Queue.takeAll(outbox), transport.sendAll))),
            scope
          )
          return { link: { transport, scope, dropped, outbox, writer }, bound }
        }))
        if (Exit.isFailure(opened)) yield* Scope.close(scope, opened)
        return yield* opened
      })

    // Performs the machine's actions (under the lock).
    const perform = (actions: ReadonlyArray<StreamManagement.Action>) =>
      Effect.gen(function*() {
        for (const action of actions) {
          switch (action._tag) {
            case "Write":
              if (link !== undefined) Queue.offerUnsafe(link.outbox, action.element)
              break
            case "Acknowledged":
              for (const [seq, waiter] of waiters) {
                if (seq > action.upTo) continue
                waiters.delete(seq)
                yield* Deferred.succeed(waiter, undefined)
              }
              roomMade()
              break
            case "Resumed":
              yield* publish({ _tag: "Resumed", jid })
              break
            case "LinkDead":
              // Its reader stops and steps LinkLost.
              if (link !== undefined) yield* drop(link, lost(`the link is dead: ${action.error.message}`, action.error))
              break
            case "Unacknowledged": {
              const stanzas = action.stanzas.map((outbound) => outbound.element)
              const error = new XmppClientError({
                reason: "NotAcknowledged",
                message: `the server may not have received this stanza: ${action.error.message}`,
                cause: action.error,
                unacknowledged: stanzas
              })
              for (const outbound of action.stanzas) {
                const waiter = waiters.get(outbound.seq)
                waiters.delete(outbound.seq)
                if (waiter !== undefined) yield* Deferred.fail(waiter, error)
              }
              handedBack = [...handedBack, ...stanzas]
              handBackError = error
              break
            }
            case "ProtocolError":
              handBackError = lost(`the server broke stream management: ${action.error.message}`, action.error)
              if (link !== undefined) yield* drop(link, handBackError)
              break
            case "Accepted":
            case "Refused":
            case "Resume":
              // Read by the caller of the step.
              break
          }
        }
        // The timer fiber is woken only when the deadline it sleeps for moved: most steps (a stanza
        // in, a stanza out) leave it where it was, and re-arming it for each cost a timer apiece.
        const deadline = sm === undefined ? undefined : StreamManagement.nextDeadline(sm)
        if (deadline !== armedFor) Queue.offerUnsafe(wake, undefined)
        if (closing) Queue.offerUnsafe(stepped, undefined)
        updateDemand()
      })

    const stepSm = (event: StreamManagement.Event) =>
      Effect.gen(function*() {
        if (sm === undefined) return []
        const stepped = StreamManagement.step(sm, event, yield* Clock.currentTimeMillis)
        sm = stepped.state
        yield* perform(stepped.actions)
        return stepped.actions
      })

    /**
     * Without stream management, a link with receipts of its own (BOSH) knows
     * what the server may not have: it joins the stanzas to hand back.
     */
    const collectUnacknowledged = (from: Link) =>
      Effect.gen(function*() {
        const receipts = from.transport.receipts
        if (sm !== undefined || receipts === undefined) return
        lostLinkHadReceipts = true
        const stanzas = yield* receipts.unacknowledged
        if (stanzas.length === 0) return
        handedBack = [...handedBack, ...stanzas]
        handBackError = lost(`the server may not have received ${stanzas.length} stanza(s): the link was lost`)
      })

    /**
     * Ends the session with `error` (under the lock): unacknowledged stanzas go
     * with it, unless `delivered` (the server confirmed it read everything).
     */
    const end = (error: XmppClientError, clean: boolean, delivered = false) =>
      Effect.gen(function*() {
        if (ended !== undefined) return
        if (!delivered) yield* stepSm({ _tag: "Abandon" })
        if (!delivered && link !== undefined) yield* collectUnacknowledged(link)
        for (const [, waiter] of waiters) yield* Deferred.fail(waiter, error)
        waiters.clear()
        ended = handedBack.length === 0 ? error : new XmppClientError({ ...error, unacknowledged: handedBack })
        roomMade()
        yield* iqs.failAll(ended)
        if (clean) yield* Queue.end(inbound)
        else yield* Queue.fail(inbound, ended)
        if (link !== undefined) yield* drop(link, ended)
        link = undefined
      })

    /** Starts stream management on a freshly bound session when the server offers it. */
    const enable = (bound: Negotiation.Bound, over: Link) =>
      Effect.gen(function*() {
        jid = bound.jid
        if (smOptions === undefined || !offersStreamManagement(bound.features)) {
          sm = undefined
          return
        }
        const options = SessionSettings.resumesOver(over.transport.kind, smOptions)
        const started = StreamManagement.make(options, yield* Clock.currentTimeMillis)
        sm = started.state
        yield* perform(started.actions)
      })

    // The session's first link: a failure here is the connect's failure.
    const first = yield* openLink(undefined)
    link = first.link
    scramKeys = first.bound.scramKeys
    yield* enable(first.bound, first.link)
    yield* publish({ _tag: "Online", jid })

    /** Reads one link until it fails; stream-management elements feed the machine. */
    const read = (current: Link) =>
      Effect.gen(function*() {
        const dropped = Effect.flatMap(Deferred.await(current.dropped), Effect.fail)
        const onDemand = current.transport.kind === "bosh"
        // A dropped TCP link's receive fails as its scope closes: the drop's reason replaces the
        // plain Closed without racing every read (a race forks two fibers per event). Over BOSH a
        // read first waits for demand: one race against the drop covers both waits.
        const receive = onDemand
          ? Effect.raceFirst(Effect.andThen(wanted.await, current.transport.receive), dropped)
          : Effect.catch(
            current.transport.receive,
            (error): Effect.Effect<never, TransportError | XmppClientError> =>
              Deferred.isDoneUnsafe(current.dropped) ? dropped : Effect.fail(error)
          )
        while (true) {
          const event = yield* receive
          if (sm !== undefined && event._tag === "StreamElement" && event.element.namespace === Namespaces.STREAM_MANAGEMENT) {
            yield* locked(stepSm({ _tag: "Received", element: event.element }))
            continue
          }
          const stanza = yield* Stanzas.toStanza(event)
          if (sm !== undefined) yield* locked(stepSm({ _tag: "Received", element: stanza }))
          const pending = iqs.answerTo(stanza, jid)
          if (pending !== undefined) yield* Deferred.succeed(pending, stanza)
          else {
            if (demand > 0) demand--
            updateDemand()
            yield* Queue.offer(inbound, stanza)
          }
        }
      })

    /** After a lost link: reconnect and resume, or a new session; false when the session is over. */
    const reconnect = (policy: SessionSettings.ReconnectSettings, reason: XmppClientError) =>
      Effect.gen(function*() {
        const attempts = policy.attempts ?? SessionSettings.reconnectDefaults.attempts
        let lastError = reason
        for (let attempt = 1; attempt <= attempts; attempt++) {
          const ceiling = SessionSettings.backoff(policy, attempt)
          const delayMs = Math.round(yield* Random.nextBetween(ceiling / 2, ceiling))
          yield* publish({ _tag: "Reconnecting", attempt, delayMs })
          yield* Effect.sleep(delayMs)
          const resume = yield* locked(Effect.gen(function*() {
            const actions = yield* stepSm({ _tag: "Reconnected" })
            const write = actions.find((a) => a._tag === "Write")
            return write?._tag === "Write" ? { request: write.element, jid } : undefined
          }))
          if (resume !== undefined) yield* publish({ _tag: "Resuming" })
          const opened = yield* Effect.exit(openLink(resume))
          if (Exit.isFailure(opened)) {
            const error = Cause.findErrorOption(opened.cause)
            if (Option.isNone(error)) return yield* Effect.failCause(opened.cause)
            lastError = error.value
            if (!retryable(lastError)) break
            yield* locked(stepSm({ _tag: "LinkLost" }))
            continue
          }
          const { bound } = opened.value
          scramKeys = bound.scramKeys ?? scramKeys
          const resumed = bound.resumption?.name === "resumed"
          yield* locked(Effect.gen(function*() {
            link = opened.value.link
            if (bound.resumption !== undefined) yield* stepSm({ _tag: "Received", element: bound.resumption })
            if (resumed) return
            // A new session: what the old one may not have delivered goes back to the caller.
            // Without stream management only BOSH's receipts tell; over TCP nothing is known.
            const known = sm !== undefined || lostLinkHadReceipts
            lostLinkHadReceipts = false
            yield* stepSm({ _tag: "Abandon" })
            const stanzas = handedBack
            handedBack = []
            if (known) {
              yield* publish({
                _tag: "ResumeFailed",
                unacknowledged: stanzas,
                error: handBackError ?? lost("the session could not be resumed")
              })
            }
            yield* enable(bound, opened.value.link)
            yield* publish({ _tag: "Online", jid })
          }))
          return true
        }
        // Ended first: once a caller sees GaveUp, every send fails (with what was not delivered).
        yield* locked(end(lastError, false))
        yield* publish({ _tag: "GaveUp", error: ended ?? lastError })
        return false
      })

    // Keeps the session up: reads the current link; on its loss, resumes or ends.
    const supervise = Effect.gen(function*() {
      while (true) {
        const current = link
        if (current === undefined) return
        const exit = yield* Effect.exit(read(current))
        if (closing || ended !== undefined) return
        const failure = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
        if (Option.isSome(failure) && Cause.isDone(failure.value)) {
          // The server closed the stream: the end, not a lost link.
          yield* locked(end(new XmppClientError({ reason: "Closed", message: "the server closed the stream" }), true))
          return
        }
        const error = Option.isSome(failure) && !Cause.isDone(failure.value)
          ? failure.value._tag === "TransportError"
            ? Login.fromTransportError("ConnectionLost")(failure.value)
            : failure.value
          : lost("the link was lost")
        if (error.reason === "Closed" || error.reason === "StreamError" || error.reason === "UnexpectedElement") {
          yield* locked(end(error, error.reason === "Closed"))
          return
        }
        yield* publish({ _tag: "Disconnected", error })
        yield* locked(Effect.gen(function*() {
          yield* drop(current, error)
          yield* collectUnacknowledged(current)
          link = undefined
          // Resumable: the machine keeps its stanzas for the <resume/>; if not, it hands them back now.
          yield* stepSm({ _tag: "LinkLost" })
        }))
        const policy = options.reconnect
        if (policy === undefined) {
          yield* locked(end(error, false))
          return
        }
        // Resumed, or a new session (what the old one may not have delivered handed back first).
        if (!(yield* reconnect(policy, error))) return
      }
    })

    // Steps the machine with Tick at its deadline; sleeps on no timer while there is none.
    const timers = Effect.gen(function*() {
      while (true) {
        const at = sm === undefined ? undefined : StreamManagement.nextDeadline(sm)
        armedFor = at
        if (at === undefined) {
          yield* Queue.take(wake)
          continue
        }
        const wait = Math.max(0, at - (yield* Clock.currentTimeMillis))
        const woken = yield* Effect.timeoutOption(Queue.take(wake), wait)
        if (Option.isNone(woken)) yield* locked(stepSm({ _tag: "Tick" }))
      }
    })

    yield* Effect.forkIn(supervise, parent)
    yield* Effect.forkIn(timers, parent)

    /** What a stanza's sender waits on until the server has it; fails with `NotAcknowledged`. */
    type Receipt = Effect.Effect<void, XmppClientError>

    // Without stream management: BOSH's own receipts (the manager answered the request that
    // carried the stanza, XEP-0124 §9); TCP has none.
    const submitUnmanaged = (current: Link, valid: Element.Element, acknowledged: boolean) =>
      Effect.gen(function*() {
        const receipts = current.transport.receipts
        const failed = Login.fromTransportError("ConnectionLost")
        if (!acknowledged || receipts === undefined) {
          if (acknowledged) {
            return yield* Effect.fail(new XmppClientError({
              reason: "StreamManagementUnavailable",
              message: "the server offers no stream management (XEP-0198) and TCP has no receipts of its own: acknowledgements cannot be had"
            }))
          }
          yield* current.transport.send(valid).pipe(Effect.mapError(failed))
          return undefined
        }
        const receipt = yield* receipts.sendTracked(valid).pipe(Effect.mapError(failed))
        const waited: Receipt = Effect.catch(receipt, (error) =>
          Effect.flatMap(receipts.unacknowledged, (unacknowledged) =>
            Effect.fail(
              new XmppClientError({
                reason: "NotAcknowledged",
                message: `the server may not have received this stanza: ${error.message}`,
                cause: error,
                unacknowledged
              })
            )
          ))
        return waited
      })

    /**
     * One try at handing a stanza over (under the lock): its receipt (or none), or, when stream
     * management's queue is full, the signal that room was made.
     */
    const trySubmit = (valid: Element.Element, acknowledged: boolean) =>
      Effect.gen(function*() {
        waitingSends--
        if (ended !== undefined) return yield* Effect.fail(ended)
        if (closing) return yield* Effect.fail(new XmppClientError({ reason: "Closed", message: "the client is closed" }))
        if (sm === undefined) {
          if (link === undefined) return yield* Effect.fail(lost("the link is down"))
          return { _tag: "Sent", receipt: yield* submitUnmanaged(link, valid, acknowledged) } as const
        }
        const actions = yield* stepSm({ _tag: "Send", element: valid })
        const refused = actions.find((a) => a._tag === "Refused")
        if (refused?._tag === "Refused") {
          if (refused.error.reason === "queue-full") return { _tag: "Full", error: refused.error, room } as const
          return yield* Effect.fail(new XmppClientError({ reason: "ConnectionLost", message: refused.error.message, cause: refused.error }))
        }
        const accepted = actions.find((a) => a._tag === "Accepted")
        let receipt: Receipt | undefined
        if (acknowledged && accepted?._tag === "Accepted") {
          const deferred = yield* Deferred.make<void, XmppClientError>()
          waiters.set(accepted.seq, deferred)
          updateDemand()
          receipt = Deferred.await(deferred)
        }
        // The end of a burst: ask for an acknowledgement of its tail, at once when a caller waits
        // for it, else within requestDelay (stanzas sent one by one then share one <r/>).
        if (waitingSends === 0) yield* stepSm({ _tag: "Flush", deferred: waiters.size === 0 })
        return { _tag: "Sent", receipt } as const
      })

    // A sender that outruns the server's acknowledgements waits for room (back-pressure), as long
    // as the server may take to answer an <r/>; past that, QueueFull.
    const submit = (stanza: Element.Element, acknowledged: boolean) =>
      Effect.gen(function*() {
        const valid = yield* Stanzas.checkStanza(stanza)
        const deadline = (yield* Clock.currentTimeMillis) + (smOptions?.ackTimeoutMs ?? 0)
        while (true) {
          waitingSends++
          const tried = yield* locked(trySubmit(valid, acknowledged))
          if (tried._tag === "Sent") {
            if (tried.receipt !== undefined) yield* tried.receipt
            return
          }
          const left = deadline - (yield* Clock.currentTimeMillis)
          const freed = left > 0 ? yield* Effect.timeoutOption(Deferred.await(tried.room), left) : Option.none()
          if (Option.isNone(freed)) {
            return yield* Effect.fail(new XmppClientError({ reason: "QueueFull", message: tried.error.message, cause: tried.error }))
          }
        }
      })

    const iq = (request: Element.Element, iqOptions: IqOptions = {}) =>
      Effect.gen(function*() {
        const registered = yield* iqs.register(request)
        const timeout = iqOptions.timeout ?? "30 seconds"
        const answer = yield* submit(registered.request, false).pipe(
          Effect.andThen(Effect.timeoutOption(Deferred.await(registered.answer), timeout)),
          Effect.ensuring(Effect.sync(() => iqs.forget(registered.id)))
        )
        return yield* IqCorrelation.outcome(registered.id, timeout, answer)
      })

    // XEP-0199: a ping unanswered in time drops the link (then reconnect or the end, as for any loss).
    const ping = options.ping
    if (ping !== undefined) {
      const interval = ping.interval ?? SessionSettings.pingDefaults.interval
      const timeout = ping.timeout ?? SessionSettings.pingDefaults.timeout
      const request = IqCorrelation.ping(jid.domain)
      yield* Effect.forkIn(
        Effect.forever(Effect.gen(function*() {
          yield* Effect.sleep(interval)
          const current = link
          if (current === undefined || closing || ended !== undefined) return
          const answered = yield* Effect.exit(iq(request, { timeout }))
          // An error answer is an answer: the link is alive.
          if (Exit.isFailure(answered) && Option.getOrUndefined(Cause.findErrorOption(answered.cause))?.reason === "Timeout") {
            yield* drop(current, lost(`no answer to a ping within ${timeout} ms`))
          }
        })),
        parent
      )
    }

    const close = Effect.gen(function*() {
      const current = yield* locked(Effect.sync(() => {
        if (closing || ended !== undefined) return undefined
        closing = true
        return link
      }))
      if (current === undefined) return
      // Bounded whatever the transport does: a write that never drains would otherwise hold the
      // close forever; past the deadline the connection is dropped, which ends such a write.
      // Every stanza accepted goes out before the stream's close: those stream management holds
      // until the server's <enabled/>, then what its writer has queued. Within the close deadline.
      const written = Effect.gen(function*() {
        while (sm?._tag === "AwaitingEnabled") yield* Queue.take(stepped)
        Queue.endUnsafe(current.outbox)
        yield* Fiber.await(current.writer)
      })
      const closing_ = yield* Effect.forkDetach(Effect.andThen(written, current.transport.close()))
      const closed = yield* Fiber.await(closing_).pipe(
        Effect.timeoutOption(closeDeadline),
        Effect.flatMap(Option.match({
          onSome: Effect.succeed,
          onNone: () =>
            Effect.as(
              drop(current, lost("the close was not confirmed in time")),
              Exit.fail(new TransportError({ reason: "CloseUnconfirmed", message: `the close took longer than ${Duration.format(closeDeadline)}` }))
            )
        }))
      )
      const failure = yield* locked(Effect.gen(function*() {
        if (Exit.isSuccess(closed)) {
          // The server closed its stream after reading ours: it has every stanza.
          for (const [, waiter] of waiters) yield* Deferred.succeed(waiter, undefined)
          waiters.clear()
          yield* end(new XmppClientError({ reason: "Closed", message: "the client is closed" }), true, true)
          return undefined
        }
        const cause = Option.getOrUndefined(Cause.findErrorOption(closed.cause))
        yield* end(
          new XmppClientError({
            reason: "CloseUnconfirmed",
            message: cause?.message ?? "the server did not confirm the close",
            cause
          }),
          true
        )
        return ended
      }))
      if (failure !== undefined) return yield* Effect.fail(failure)
    })
    yield* Effect.addFinalizer(() => Effect.ignore(close))

    return {
      jid,
      transport: first.link.transport.kind,
      mechanism: first.bound.mechanism,
      send: (stanza) => submit(stanza, false),
      sendAcknowledged: (stanza) => submit(stanza, true),
      iq,
      // Each pull is one token of demand for the BOSH reader.
      stanzas: Stream.fromEffectRepeat(
        Effect.suspend(() => {
          demand++
          updateDemand()
          return Queue.take(inbound).pipe(
            // A pull given up takes its token back.
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                if (demand > 0) demand--
                updateDemand()
              })
            )
          )
        })
      ),
      events: Stream.fromPubSub(events),
      close
    }
  })
