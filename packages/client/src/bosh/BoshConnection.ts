/**
 * Drives the pure BOSH session machine of `@xmpp-core/protocol` over an
 * `HttpClient` and the `Clock`: the small Effect wrapper around the machine.
 *
 * - every event (a call of the API, an HTTP answer or failure, the machine's
 *   deadline) steps the machine under one lock, and its actions are performed
 *   at once: requests are posted in their own fibers through the one
 *   exchange (`BoshHttpExchange.post`: bounded, typed), payloads go to
 *   `incoming` in the machine's order (a slow reader holds the machine, it
 *   never reorders), the end of the session completes `ended`;
 * - a new `rid` is posted only once the previous new `rid` was written to
 *   its connection (`RequestWritten`), so requests reach the manager in
 *   order without any timer;
 * - a resend of a `rid` interrupts the previous exchange of that `rid`: at
 *   most one exchange per `rid` is live;
 * - a failed exchange reaches the machine with its typed cause and whether
 *   resending can help (`ExchangeFailure`);
 * - once the session ended, every call fails with the error that ended it,
 *   and `receive`, once the payloads delivered before were taken, with
 *   `Cause.Done` (`ended` tells how it ended);
 * - one timer for the machine's deadline, replaced only when the deadline
 *   moves earlier: a later one (nearly every step) is slept on from the old;
 * - time comes from `Clock`, so a `TestClock` drives timeouts in tests;
 * - randomness (initial `rid`, key-chain seed) comes from `SecureRandom`.
 *
 * Which HTTP mode (a connection per request, keep-alive, proxies) is the
 * business of the `HttpClient` layer, not of this driver.
 *
 * @since 0.1.0
 */
import {
  BodyParser,
  BoshError,
  BoshOptions,
  BoshSession,
  type BoshSessionParameters,
  type Element,
  type XmlError
} from "@xmpp-core/protocol"
import { type Cause, Clock, Data, Deferred, Duration, Effect, Exit, Fiber, Option, Queue, Result, Scope, Semaphore } from "effect"
import { SecureRandom } from "effect/crypto"
import { HttpClient } from "effect/http"
import * as BoshHttpExchange from "../http/BoshHttpExchange.js"
import { isRecoverable } from "./ExchangeFailure.js"

/**
 * Parses the bytes of an HTTP response into its `<body/>` element (the
 * signature of `BodyParser.parseBody` in `@xmpp-core/protocol`).
 *
 * @since 0.1.0
 */
export type ParseBody = (bytes: Uint8Array) => Result.Result<Element.Element, XmlError>

/**
 * @since 0.1.0
 */
export interface Options {
  /** The connection manager's URL (`url`, e.g. `https://example.org/http-bind`), the proxy and the answer size limit. */
  readonly http: BoshHttpExchange.ExchangeConfig
  readonly session: BoshSession.Options
  /** How response bytes become a `<body/>`; default `BodyParser.parseBody` (restricted XML, bounded). */
  readonly parseBody?: ParseBody | undefined
  /** Most stanzas waiting in `incoming` before the driver stops reading (back-pressure). Default 10,000. */
  readonly incomingCapacity?: number | undefined
  /** Sees each request as it is posted (an XML console; resends included). Must not throw. */
  readonly onRequest?: ((request: BoshSession.Request) => void) | undefined
  /** Sees the bytes of each HTTP answer before they are parsed. Must not throw. */
  readonly onResponse?: ((bytes: Uint8Array) => void) | undefined
}

/**
 * A request the machine refused (the session was closed or is closing, too
 * many stanzas waiting, a stanza that is not valid XML, a pause not
 * offered). A session that ended with an error answers with that
 * `BoshError` instead.
 *
 * @since 0.1.0
 */
export class BoshRejected extends Data.TaggedError("BoshRejected")<{
  readonly request: "Send" | "Restart" | "Pause" | "Close"
  readonly message: string
  readonly cause?: XmlError | undefined
}> {}

/**
 * An open (or opening) BOSH session.
 *
 * @since 0.1.0
 */
export interface BoshConnection {
  /** The parameters the manager granted; fails if the session could not be created. */
  readonly established: Effect.Effect<BoshSessionParameters.SessionParameters, BoshError>
  /**
   * The next payload from the manager (once each, in `rid` order). When none
   * is buffered, the machine learns that the caller waits and keeps a
   * request at the manager for what it pushes; nobody waiting, it sends no
   * empty request but to keep the session alive. Fails with `Cause.Done`
   * once the session ended and every payload delivered before was taken
   * (`ended` tells how it ended).
   */
  readonly receive: Effect.Effect<Element.Element, Cause.Done>
  /** The next buffered payload, if one is there; never waits, never asks for more. */
  readonly tryReceive: Effect.Effect<Option.Option<Element.Element>>
  readonly send: (stanzas: ReadonlyArray<Element.Element>) => Effect.Effect<void, BoshRejected | BoshError>
  /**
   * Sends like `send` and returns the receipt: an effect that succeeds once
   * the manager acknowledged the stanzas (answered, in `rid` order, the
   * request that carried the last of them; XEP-0124 §9), or fails with the
   * error that ended the session first.
   */
  readonly sendTracked: (
    stanzas: ReadonlyArray<Element.Element>
  ) => Effect.Effect<Effect.Effect<void, BoshError>, BoshRejected | BoshError>
  /**
   * The stanzas sent and not acknowledged yet, oldest first; once the
   * session ended badly, those the manager may never have received.
   */
  readonly unacknowledged: Effect.Effect<ReadonlyArray<Element.Element>>
  /** XEP-0206 stream restart (after SASL). */
  readonly restart: Effect.Effect<void, BoshRejected | BoshError>
  readonly pause: (seconds: number) => Effect.Effect<void, BoshRejected | BoshError>
  readonly resume: Effect.Effect<void>
  /** Terminates the session after everything queued (and `stanzas`); waits until it ended. */
  readonly close: (stanzas?: ReadonlyArray<Element.Element>) => Effect.Effect<void, BoshError | BoshRejected>
  /** Completes when the session ended: succeeds after a clean close, fails with the `BoshError` otherwise. */
  readonly ended: Effect.Effect<void, BoshError>
}

/**
 * Scheduler turns a demand poll lets pass before it goes: one let a reply to a delivered stanza in
 * first, but a reply to a stream-management acknowledgement takes three hops, and ejabberd 23.01
 * then lost the session in 1 run of 12 (StreamManagementBosh.interop.test.ts); with four, none in 60.
 */
const reactionTurns = 4

/**
 * Opens a BOSH session. The session lives as long as the `Scope`. Fails at
 * once with `invalid-options` when the session options do not decode.
 *
 * @since 0.1.0
 */
export const connect = Effect.fnUntraced(function*(options: Options) {
  // Options may come from outside (files, flags): decode and check them first.
  // The decoded settings carry every default (`BoshOptions`, the one source).
  const decoded = BoshOptions.decode(options.session)
  if (Result.isFailure(decoded)) return yield* Effect.fail(decoded.failure)
  const sessionOptions = decoded.success
  const http = yield* HttpClient.HttpClient
  const random = yield* SecureRandom.SecureRandom
  // The session's fibers live in a scope of their own, opened here: a scope
  // being closed takes no new fibers, and the owner's finalizers (which run
  // before this one) still need exchanges, e.g. to send the terminate on Ctrl-C.
  const scope = yield* Scope.fork(yield* Scope.Scope)
  const lock = yield* Semaphore.make(1)
  // Ended with the session: what was delivered is still taken, then `receive` fails with `Done`.
  const incoming = yield* Queue.bounded<Element.Element, Cause.Done>(options.incomingCapacity ?? 10_000)
  const ended = yield* Deferred.make<void, BoshError>()
  const established = yield* Deferred.make<BoshSessionParameters.SessionParameters, BoshError>()
  const randomness = { rid: yield* random.randomBytes(6), keySeed: yield* random.randomBytes(32) }

  const parseBody = options.parseBody ?? ((bytes: Uint8Array) => BodyParser.parseBody(bytes))
  const exchanges = new Map<number, Fiber.Fiber<void>>()
  let timer: { readonly at: number; readonly fiber: Fiber.Fiber<void> } | undefined
  let state: BoshSession.State

  /** Set when the manager granted the session: failures are then judged as passing (see `ExchangeFailure`). */
  let sessionUp = false
  /** The error that ended the session, once it ended with one. */
  let endError: BoshError | undefined
  /** Receipts waiting for the manager's acknowledgement, by payload number (ascending). */
  const receipts: Array<{ readonly upTo: number; readonly done: Deferred.Deferred<void, BoshError> }> = []
  /** Completed once the newest new rid was written (or its exchange ended): the next new rid waits for it. */
  let lastWritten: Deferred.Deferred<void> | undefined

  const post = (request: BoshSession.Request): Effect.Effect<BoshSession.Event> => {
    if (request.attempt > 1) return exchange(request, undefined)
    // A new rid goes on the wire only after the one before it: order by cause, not by timer.
    const previous = lastWritten
    const written = Deferred.makeUnsafe<void>()
    lastWritten = written
    const release = () => Deferred.doneUnsafe(written, Exit.void)
    const send = exchange(request, release)
    // Released however this exchange ends, also when it is interrupted while still waiting its
    // turn: a link of the chain left unreleased would hold every later rid back for good.
    return Effect.ensuring(previous === undefined ? send : Effect.andThen(Deferred.await(previous), send), Effect.sync(release))
  }

  const exchange = (request: BoshSession.Request, onWritten: (() => void) | undefined): Effect.Effect<BoshSession.Event> =>
    Effect.suspend(() => {
      options.onRequest?.(request)
      return BoshHttpExchange.post(options.http, request.text, onWritten)
    }).pipe(
      Effect.provideService(HttpClient.HttpClient, http),
      Effect.map((response): BoshSession.Event => {
        options.onResponse?.(response.bytes)
        const parsed = response.bytes.length === 0 ? undefined : parseBody(response.bytes)
        return {
          _tag: "HttpResponse",
          rid: request.rid,
          attempt: request.attempt,
          status: response.status,
          // ejabberd explains terminal conditions here, with status 200.
          reasonPhrase: Option.getOrUndefined(response.reasonPhrase),
          body: parsed !== undefined && Result.isSuccess(parsed) ? parsed.success : undefined,
          bodyError: parsed !== undefined && Result.isFailure(parsed) ? parsed.failure : undefined
        }
      }),
      Effect.catch((error) =>
        Effect.succeed<BoshSession.Event>({
          _tag: "HttpFailed",
          rid: request.rid,
          attempt: request.attempt,
          reason: error.message,
          recoverable: isRecoverable(error, sessionUp),
          cause: error
        })
      )
    )

  // Steps the machine and performs its actions; returns the refusal, if any.
  const step = (event: BoshSession.Event): Effect.Effect<BoshRejected | undefined> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const result = BoshSession.step(state, event, now)
      state = result.state
      return yield* perform(result.actions)
    })

  const feed = (event: BoshSession.Event): Effect.Effect<BoshRejected | undefined> => lock.withPermit(step(event))

  // The caller waits only if nothing was delivered meanwhile: checked under the lock that delivers.
  // Before asking for a poll, the application's reaction to what was just delivered runs first:
  // what it sends then rides in a request of its own instead of a poll and a request written back
  // to back, which ejabberd's connections can swap (see the package README). That reaction reaches
  // the machine a few scheduler turns later (a stream-management acknowledgement wakes the sender,
  // whose send wakes the session's writer, which feeds the machine): the poll waits them out.
  const waitForPayloads: Effect.Effect<void> = Effect.andThen(
    Effect.repeat(Effect.yieldNow, { times: reactionTurns - 1 }),
    lock.withPermit(
      Effect.flatMap(Queue.size(incoming), (size) => size > 0 ? Effect.void : Effect.asVoid(step(BoshSession.Event.receive())))
    )
  )

  const perform = (actions: ReadonlyArray<BoshSession.Action>): Effect.Effect<BoshRejected | undefined> =>
    Effect.gen(function*() {
      let refusal: BoshRejected | undefined
      for (const action of actions) {
        switch (action._tag) {
          case "Request": {
            // A resend supersedes the earlier exchange of its rid: one live exchange per rid.
            const previous = exchanges.get(action.rid)
            if (previous !== undefined) yield* Fiber.interrupt(previous)
            // Started at once, in this fiber's turn: the request is handed to the HTTP client now,
            // not one scheduler turn later. An exchange answered before `forkIn` returns (a client
            // that answers synchronously) has removed its rid already and is not recorded.
            let answered = false
            const fiber = yield* post(action).pipe(
              Effect.flatMap((answer) => {
                answered = true
                exchanges.delete(action.rid)
                return feed(answer)
              }),
              Effect.asVoid,
              Effect.forkIn(scope, { startImmediately: true })
            )
            if (!answered) exchanges.set(action.rid, fiber)
            break
          }
          case "Deliver":
            // Back-pressure: a slow reader holds the machine here rather than lose stanzas.
            yield* Queue.offerAll(incoming, action.payloads)
            break
          case "Acknowledged":
            while (receipts.length > 0 && (receipts[0]?.upTo ?? Infinity) <= action.upTo) {
              const receipt = receipts.shift()
              if (receipt !== undefined) yield* Deferred.succeed(receipt.done, undefined)
            }
            break
          case "SessionEstablished":
            sessionUp = true
            yield* Deferred.succeed(established, action.parameters)
            break
          case "Rejected":
            refusal = new BoshRejected({ request: action.request, message: action.message, cause: action.error })
            break
          case "Closed":
            yield* Deferred.fail(established, new BoshError({ reason: "item-not-found", message: "session closed" }))
            yield* Deferred.succeed(ended, undefined)
            yield* Queue.end(incoming)
            yield* stopExchanges
            break
          case "Terminated":
            endError = action.error
            for (const receipt of receipts.splice(0)) yield* Deferred.fail(receipt.done, action.error)
            yield* Deferred.fail(established, action.error)
            yield* Deferred.fail(ended, action.error)
            yield* Queue.end(incoming)
            yield* stopExchanges
            break
        }
      }
      yield* schedule
      return refusal
    })

  const stopExchanges = Effect.suspend(() => {
    const fibers = [...exchanges.values()]
    exchanges.clear()
    return Effect.forEach(fibers, (fiber) => Fiber.interrupt(fiber), { discard: true })
  })

  // One timer for the machine's next deadline (under the lock). The deadline moves with nearly
  // every step, mostly later (a new request's deadline replaces an answered one's): then the
  // timer is kept, wakes at the earlier time and sleeps on, rather than be replaced per step.
  // Only an earlier deadline, or none, replaces it.
  const schedule: Effect.Effect<void> = Effect.suspend(() => {
    const deadline = BoshSession.nextDeadline(state)
    if (timer === undefined) return startTimer(deadline)
    if (deadline !== undefined && timer.at <= deadline) return Effect.void
    const old = timer.fiber
    timer = undefined
    return Effect.andThen(Fiber.interrupt(old), startTimer(deadline))
  })

  const startTimer = (deadline: number | undefined): Effect.Effect<void> =>
    deadline === undefined ? Effect.void : Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.sleep(Duration.millis(Math.max(0, deadline - now))).pipe(
        Effect.andThen(lock.withPermit(Effect.gen(function*() {
          timer = undefined
          const due = BoshSession.nextDeadline(state)
          // Moved later meanwhile: sleep on until then.
          if (due === undefined || due > (yield* Clock.currentTimeMillis)) return yield* schedule
          yield* step(BoshSession.Event.tick())
        }))),
        Effect.forkIn(scope)
      )
      timer = { at: deadline, fiber }
    })

  // A refusal of an ended session is the error that ended it: the caller learns why, not just "closed".
  const refuse = (refusal: BoshRejected | undefined): Effect.Effect<void, BoshRejected | BoshError> =>
    refusal === undefined ? Effect.void : Effect.fail(endError ?? refusal)

  yield* lock.withPermit(Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const started = BoshSession.make(sessionOptions, randomness, now)
    state = started.state
    yield* perform(started.actions)
  }))
  yield* Scope.addFinalizer(scope, stopExchanges)

  const connection: BoshConnection = {
    established: Deferred.await(established),
    receive: Effect.flatMap(Queue.poll(incoming), (ready) =>
      Option.isSome(ready)
        ? Effect.succeed(ready.value)
        : Effect.andThen(waitForPayloads, Queue.take(incoming))),
    tryReceive: Queue.poll(incoming),
    send: (stanzas) => Effect.flatMap(feed(BoshSession.Event.send(stanzas)), refuse),
    sendTracked: (stanzas) =>
      lock.withPermit(Effect.gen(function*() {
        yield* refuse(yield* step(BoshSession.Event.send(stanzas)))
        const done = yield* Deferred.make<void, BoshError>()
        const upTo = BoshSession.acceptedPayloads(state)
        receipts.push({ upTo, done })
        // The manager may hold the request that carries them: the machine releases it.
        yield* step(BoshSession.Event.awaitAcknowledgement(upTo))
        return Deferred.await(done)
      })),
    unacknowledged: Effect.sync(() => BoshSession.unacknowledged(state)),
    restart: Effect.flatMap(feed(BoshSession.Event.restart()), refuse),
    pause: (seconds) => Effect.flatMap(feed(BoshSession.Event.pause(seconds)), refuse),
    resume: Effect.asVoid(feed(BoshSession.Event.resume())),
    close: (stanzas = []) =>
      Effect.flatMap(
        feed(BoshSession.Event.close(stanzas)),
        (refusal): Effect.Effect<void, BoshError | BoshRejected> =>
          refusal === undefined ? Deferred.await(ended) : Effect.fail(endError ?? refusal)
      ),
    ended: Deferred.await(ended)
  }
  return connection
})
