/**
 * The record every live state of the BOSH machine carries (internal to
 * `BoshSession`, not exported from the package): settings, the rid window,
 * the queue of what is not sent yet, the timers and the flags of the
 * session's course; with its copy (`fork`) and the quantities derived from
 * it (timeouts, outstanding requests).
 *
 * @since 0.1.0
 */
import type * as BoshOptions from "./BoshOptions.js"
import type * as KeyChain from "./KeyChain.js"
import * as Outgoing from "./Outgoing.js"
import * as PendingQueue from "./PendingQueue.js"
import type * as Polling from "./Polling.js"
import type * as ResponseClassifier from "./ResponseClassifier.js"
import * as RidWindow from "./RidWindow.js"
import type * as SessionParameters from "./SessionParameters.js"
import * as Timers from "./Timers.js"

type Settings = BoshOptions.Settings

/**
 * @since 0.1.0
 */
export type Received = ResponseClassifier.Received

/**
 * @since 0.1.0
 */
export interface Session {
  readonly settings: Settings
  readonly creationRid: number
  parameters: SessionParameters.SessionParameters | undefined
  /** The rids: next to take, next to process, requests and early responses, copies on the wire. */
  readonly window: RidWindow.RidWindow<Outgoing.Outgoing, Received>
  /** The stanzas (and restart/close marks) not sent yet. */
  readonly queue: PendingQueue.PendingQueue
  keyChain: KeyChain.KeyChain | undefined
  lastNew: Polling.LastNew | undefined
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
  closeQueued: boolean
  terminateRid: number | undefined
  /** Highest `rid` the manager acknowledged receiving (§9.1). */
  managerAck: number
  /** Payloads accepted for sending (`Send`, `Close`), and how many of them the manager acknowledged (`Acknowledgements`). */
  accepted: number
  acknowledged: number
  /** The highest payload number a caller waits to see acknowledged (`AwaitAcknowledgement`). */
  awaitedAcknowledgement: number
  /** `poll` and `resume` are set where they are decided; `request` and `straggler` follow the window (`armTimers`). */
  readonly timers: Timers.TimerTable
}

/**
 * A copy of everything a step may change, so that a state value, once
 * returned, stays what it was (the caller may keep it, compare it, replay
 * from it). The maps hold at most `requests` entries; the queue of stanzas
 * not yet sent is shared, each state reading only its own window of it.
 *
 * @since 0.1.0
 */
export const fork = (session: Session): Session => {
  const lastNew = session.lastNew
  // Written field by field, in the order `make` uses, so every session shares one object shape.
  return {
    settings: session.settings,
    creationRid: session.creationRid,
    parameters: session.parameters,
    window: RidWindow.fork(session.window, Outgoing.copy),
    // Shares the array: each state reads only its own window of it.
    queue: PendingQueue.fork(session.queue),
    keyChain: session.keyChain,
    lastNew: lastNew === undefined
      ? undefined
      : { rid: lastNew.rid, empty: lastNew.empty, lastSentAt: lastNew.lastSentAt, hadPayloads: lastNew.hadPayloads },
    wanted: session.wanted,
    lastAnswerAt: session.lastAnswerAt,
    paused: session.paused,
    closeQueued: session.closeQueued,
    terminateRid: session.terminateRid,
    managerAck: session.managerAck,
    accepted: session.accepted,
    acknowledged: session.acknowledged,
    awaitedAcknowledgement: session.awaitedAcknowledgement,
    timers: Timers.fork(session.timers)
  }
}

/**
 * Sets the timers that follow the requests in the window, after each step:
 * the earliest unanswered request's deadline, the earliest late copy's;
 * and stops `resume` once the session is no longer paused.
 *
 * @since 0.1.0
 */
export const armTimers = (session: Session): void => {
  Timers.set(session.timers, "request", RidWindow.requestDeadline(session.window, (outgoing) => outgoing.deadline))
  Timers.set(session.timers, "straggler", RidWindow.stragglerDeadline(session.window))
  if (!session.paused) Timers.stop(session.timers, "resume")
}

/**
 * How long a request the manager may hold is waited for: `wait` (granted, or
 * asked) and the margin, ms.
 *
 * @since 0.1.0
 */
export const timeoutFor = (session: Session): number =>
  ((session.parameters?.wait ?? session.settings.wait) * 1000) + session.settings.timeoutMarginMs

/**
 * When an attempt sent `now` stops being waited for.
 *
 * @since 0.1.0
 */
export const attemptDeadline = (session: Session, kind: Outgoing.RequestKind, giveUpAt: number, now: number): number =>
  kind === "pause"
    ? Infinity
    : Outgoing.answeredAtOnce(kind)
    ? Math.min(giveUpAt, now + session.settings.requestTimeoutMs)
    : now + timeoutFor(session)

/**
 * How long a pause must last so that the manager still hears from us before it ends when
 * the exchange in flight and its first resend both hang (the same two lost exchanges the
 * session's `inactivity` is assumed to absorb): two timeouts, the two backoffs in between,
 * and a second of slack for the network.
 *
 * @since 0.1.0
 */
export const pauseRecoveryMs = (session: Session): number =>
  2 * timeoutFor(session) + session.settings.retryBaseMs +
  Math.min(2 * session.settings.retryBaseMs, session.settings.retryMaxMs) + 1000

/**
 * Requests the manager has not answered as far as the client knows.
 *
 * @since 0.1.0
 */
export const outstanding = (session: Session): number => RidWindow.outstanding(session.window)

/**
 * Pause requests not answered (ejabberd never answers them): the manager holds none of them.
 *
 * @since 0.1.0
 */
export const unansweredPauses = (session: Session): number => {
  let count = 0
  for (const outgoing of session.window.outgoing.values()) if (outgoing.kind === "pause") count++
  return count
}
