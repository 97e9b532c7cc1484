/**
 * Drives the pure BOSH session machine of `@xmpp-core/protocol` over an
 * `HttpClient` and the `Clock`: the small Effect wrapper around the machine.
 *
 * - every event (a call of the API, an HTTP answer or failure, the machine's
 *   deadline) steps the machine under one lock, and its actions are performed
 *   at once: requests are posted in their own fibers, payloads go to
 *   `incoming`, the end of the session completes `ended`;
 * - a resend of a `rid` interrupts the previous exchange of that `rid`;
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
import { Clock, Data, Deferred, Duration, Effect, Exit, Fiber, Option, Queue, Result, Scope, Semaphore } from "effect"
import { SecureRandom } from "effect/crypto"
import { HttpClient, HttpClientRequest } from "effect/http"
import { reasonPhrase } from "../http/ReasonPhrase.js"

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
  /** The connection manager's URL, e.g. `https://example.org/http-bind`. */
  readonly url: string
  readonly session: BoshSession.Options
  /** How response bytes become a `<body/>`; default `BodyParser.parseBody` (restricted XML, bounded). */
  readonly parseBody?: ParseBody | undefined
  /** Most stanzas waiting in `incoming` before the driver stops reading (back-pressure). Default 10,000. */
  readonly incomingCapacity?: number | undefined
  /**
   * Milliseconds a new request waits after the previous one was posted, while
   * that one is still unanswered (default 0: none). Requests travel on
   * different connections and may overtake each other; ejabberd 23.01 then
   * stalls the session for good (it parks the later `rid`, holds the earlier
   * one, and never looks at the parked one again), so requests posted back to
   * back must reach it in order, and a head start makes that very likely.
   */
  readonly requestSpacingMs?: number | undefined
  /** Sees each request as it is posted (an XML console; resends included). Must not throw. */
  readonly onRequest?: ((request: BoshSession.Request) => void) | undefined
  /** Sees the bytes of each HTTP answer before they are parsed. Must not throw. */
  readonly onResponse?: ((bytes: Uint8Array) => void) | undefined
}

/**
 * A request the machine refused (the session ended or is closing, too many
 * stanzas waiting, a stanza that is not valid XML, a pause not offered).
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
  /** Payloads from the manager, once each, in `rid` order. */
  readonly incoming: Queue.Dequeue<Element.Element>
  readonly send: (stanzas: ReadonlyArray<Element.Element>) => Effect.Effect<void, BoshRejected>
  /** XEP-0206 stream restart (after SASL). */
  readonly restart: Effect.Effect<void, BoshRejected>
  readonly pause: (seconds: number) => Effect.Effect<void, BoshRejected>
  readonly resume: Effect.Effect<void>
  /** Terminates the session after everything queued (and `stanzas`); waits until it ended. */
  readonly close: (stanzas?: ReadonlyArray<Element.Element>) => Effect.Effect<void, BoshError | BoshRejected>
  /** Completes when the session ended: succeeds after a clean close, fails with the `BoshError` otherwise. */
  readonly ended: Effect.Effect<void, BoshError>
}

const CONTENT_TYPE = "text/xml; charset=utf-8"

/**
 * Opens a BOSH session. The session lives as long as the `Scope`. Fails at
 * once with `invalid-options` when the session options do not decode.
 *
 * @since 0.1.0
 */
export const connect = Effect.fnUntraced(function*(options: Options) {
  // Options may come from outside (files, flags): decode and check them first.
  const decoded = BoshOptions.decode(options.session)
  if (Result.isFailure(decoded)) return yield* Effect.fail(decoded.failure)
  const sessionOptions: BoshSession.Options = { ...options.session, ...decoded.success }
  const http = yield* HttpClient.HttpClient
  const random = yield* SecureRandom.SecureRandom
  const scope = yield* Scope.Scope
  const lock = yield* Semaphore.make(1)
  const incoming = yield* Queue.bounded<Element.Element>(options.incomingCapacity ?? 10_000)
  const ended = yield* Deferred.make<void, BoshError>()
  const established = yield* Deferred.make<BoshSessionParameters.SessionParameters, BoshError>()
  const randomness = { rid: yield* random.randomBytes(6), keySeed: yield* random.randomBytes(32) }

  const parseBody = options.parseBody ?? ((bytes: Uint8Array) => BodyParser.parseBody(bytes))
  const exchanges = new Map<number, Fiber.Fiber<void>>()
  let timer: { readonly at: number; readonly fiber: Fiber.Fiber<void> } | undefined
  let state: BoshSession.State

  const spacing = Math.max(0, options.requestSpacingMs ?? 0)
  /**
   * Per new rid: completed with the time it was posted (0 if it never was).
   * A request waits for the one before it, so requests go out in rid order.
   */
  const posted = new Map<number, Deferred.Deferred<number>>()
  /** Rids posted and not answered yet. */
  const inFlight = new Set<number>()

  // Waits until the previous rid was posted and, if it is still unanswered,
  // has had `spacing` ms of head start.
  const headStart = (rid: number): Effect.Effect<void> => {
    const previous = posted.get(rid - 1)
    if (spacing === 0 || previous === undefined) return Effect.void
    return Effect.flatMap(Deferred.await(previous), (at) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        posted.delete(rid - 1)
        return !inFlight.has(rid - 1) || now - at >= spacing
          ? Effect.void
          : Effect.sleep(Duration.millis(spacing - (now - at)))
      }))
  }

  const post = (request: BoshSession.Request): Effect.Effect<BoshSession.Event> => {
    const signal = request.attempt === 1 ? posted.get(request.rid) : undefined
    return Effect.andThen(
      request.attempt === 1 ? headStart(request.rid) : Effect.void,
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        inFlight.add(request.rid)
        if (signal !== undefined) Deferred.doneUnsafe(signal, Exit.succeed(now))
        options.onRequest?.(request)
        return Effect.ensuring(exchange(request), Effect.sync(() => inFlight.delete(request.rid)))
      })
    ).pipe(
      // Never leave the next request waiting on one that was interrupted before it went out.
      Effect.onInterrupt(() => signal === undefined ? Effect.void : Deferred.succeed(signal, 0))
    )
  }

  const exchange = (request: BoshSession.Request): Effect.Effect<BoshSession.Event> =>
    http.execute(HttpClientRequest.post(options.url).pipe(HttpClientRequest.bodyText(request.text, CONTENT_TYPE))).pipe(
      Effect.flatMap((response) =>
        Effect.map(response.arrayBuffer, (buffer): BoshSession.Event => {
          const bytes = new Uint8Array(buffer)
          options.onResponse?.(bytes)
          const parsed = parseBody(bytes)
          return {
            _tag: "HttpResponse",
            rid: request.rid,
            attempt: request.attempt,
            status: response.status,
            // ejabberd explains terminal conditions here, with status 200.
            reasonPhrase: Option.getOrUndefined(reasonPhrase(response)),
            body: Result.isSuccess(parsed) ? parsed.success : undefined
          }
        })
      ),
      Effect.catch((error) =>
        Effect.succeed<BoshSession.Event>({
          _tag: "HttpFailed",
          rid: request.rid,
          attempt: request.attempt,
          reason: error.message
        })
      )
    )

  // Steps the machine and performs its actions; returns the refusal, if any.
  const feed = (event: BoshSession.Event): Effect.Effect<BoshRejected | undefined> =>
    lock.withPermit(Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const result = BoshSession.step(state, event, now)
      state = result.state
      return yield* perform(result.actions)
    }))

  const perform = (actions: ReadonlyArray<BoshSession.Action>): Effect.Effect<BoshRejected | undefined> =>
    Effect.gen(function*() {
      let refusal: BoshRejected | undefined
      for (const action of actions) {
        switch (action._tag) {
          case "Request": {
            const previous = exchanges.get(action.rid)
            if (previous !== undefined) yield* Fiber.interrupt(previous)
            if (spacing > 0 && action.attempt === 1 && !posted.has(action.rid)) {
              posted.set(action.rid, Deferred.makeUnsafe<number>())
            }
            const fiber = yield* post(action).pipe(
              Effect.flatMap((answer) => {
                exchanges.delete(action.rid)
                return feed(answer)
              }),
              Effect.asVoid,
              Effect.forkIn(scope)
            )
            exchanges.set(action.rid, fiber)
            break
          }
          case "Deliver":
            // Back-pressure: a slow reader holds the machine here rather than lose stanzas.
            yield* Queue.offerAll(incoming, action.payloads)
            break
          case "SessionEstablished":
            yield* Deferred.succeed(established, action.parameters)
            break
          case "Rejected":
            refusal = new BoshRejected({ request: action.request, message: action.message, cause: action.error })
            break
          case "Closed":
            yield* Deferred.fail(established, new BoshError({ reason: "item-not-found", message: "session closed" }))
            yield* Deferred.succeed(ended, undefined)
            yield* stopExchanges
            break
          case "Terminated":
            yield* Deferred.fail(established, action.error)
            yield* Deferred.fail(ended, action.error)
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

  // One timer for the machine's next deadline, moved whenever the deadline moves.
  const schedule: Effect.Effect<void> = Effect.gen(function*() {
    const deadline = BoshSession.nextDeadline(state)
    if (timer !== undefined && timer.at === deadline) return
    if (timer !== undefined) {
      const old = timer.fiber
      timer = undefined
      yield* Fiber.interrupt(old)
    }
    if (deadline === undefined) return
    const now = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.sleep(Duration.millis(Math.max(0, deadline - now))).pipe(
      Effect.flatMap(() => {
        timer = undefined
        return feed(BoshSession.Event.tick())
      }),
      Effect.asVoid,
      Effect.forkIn(scope)
    )
    timer = { at: deadline, fiber }
  })

  const refuse = (refusal: BoshRejected | undefined): Effect.Effect<void, BoshRejected> =>
    refusal === undefined ? Effect.void : Effect.fail(refusal)

  yield* lock.withPermit(Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const started = BoshSession.make(sessionOptions, randomness, now)
    state = started.state
    yield* perform(started.actions)
  }))
  yield* Scope.addFinalizer(scope, stopExchanges)

  const connection: BoshConnection = {
    established: Deferred.await(established),
    incoming,
    send: (stanzas) => Effect.flatMap(feed(BoshSession.Event.send(stanzas)), refuse),
    restart: Effect.flatMap(feed(BoshSession.Event.restart()), refuse),
    pause: (seconds) => Effect.flatMap(feed(BoshSession.Event.pause(seconds)), refuse),
    resume: Effect.asVoid(feed(BoshSession.Event.resume())),
    close: (stanzas = []) =>
      Effect.flatMap(
        feed(BoshSession.Event.close(stanzas)),
        (refusal): Effect.Effect<void, BoshError | BoshRejected> =>
          refusal === undefined ? Deferred.await(ended) : Effect.fail(refusal)
      ),
    ended: Deferred.await(ended)
  }
  return connection
})
