/**
 * XMPP over BOSH (XEP-0124 with XEP-0206): a `Transport` on `BoshConnection`.
 *
 * - The session creation request names the domain (`to`), and the account
 *   (`from`) only when the channel is encrypted; `route` is optional.
 * - The session creation response becomes a synthesized `StreamOpen`
 *   (`BoshStreamHeader`: its `from`, `authid` as the stream id, `xmpp:version`), so the negotiation
 *   machine sees what it sees over TCP; every payload child then arrives as
 *   a `StreamElement`, once each and in order.
 * - `restart` is the machine's `xmpp:restart='true'` body. The features may
 *   come in its answer or in a later one (Openfire): nothing here waits for
 *   them, negotiation does, with its own deadline.
 * - `close(last)` is a `type='terminate'` body carrying `last`.
 * - A session that ends badly is a `TransportError` whose `condition` is the
 *   `BoshError` reason (`item-not-found`, `see-other-uri`…) and whose `cause`
 *   is the `BoshError`. When a connection could not be opened (refused, DNS,
 *   TLS, proxy), it reads as it does over TCP: `ConnectFailed`/`TlsFailed`
 *   with the `Connector`'s error as `cause`. A relayed `<stream:error/>`
 *   (`remote-stream-error`) is handed out as an element first, so the client
 *   reports the XMPP condition; calls after it fail with `StreamError`.
 * - Once the session ended, `send` and `restart` fail with the error that
 *   ended it, never a bare `Closed`.
 * - `secure` is true only for `https://` URLs: PLAIN over plain-HTTP BOSH
 *   still needs the caller's explicit plaintext permission.
 *
 * The `HttpClient` decides how requests map to connections (modes, proxy,
 * CA); see `BoshHttpClients`.
 *
 * @since 0.1.0
 */
import {
  type BoshError,
  type BoshSession,
  BoshStreamHeader,
  type Element,
  Namespaces,
  StreamError,
  XmlSerializer,
  type XmlStreamEvent
} from "@xmpp-core/protocol"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { SecureRandom } from "effect/crypto"
import type { HttpClient } from "effect/http"
import * as BoshConnection from "../bosh/BoshConnection.js"
import * as BoshHttpExchange from "../http/BoshHttpExchange.js"
import { isHttpError } from "../http/HttpError.js"
import { ConnectError } from "../net/ConnectError.js"
import { ProxyError } from "../net/ProxyError.js"
import { TlsError } from "../net/TlsError.js"
import * as Traffic from "./Traffic.js"
import type { Receipts, Transport } from "./Transport.js"
import { TransportError } from "./TransportError.js"

/**
 * @since 0.1.0
 */
export interface Options {
  /** The XMPP domain: the session's `to`. */
  readonly domain: string
  /** The connection manager (`url`, `http://` or `https://`), the proxy before it and the answer size limit. */
  readonly http: BoshHttpExchange.ExchangeConfig
  /** The account's bare JID; sent as `from` only when `http.url` is `https://`. */
  readonly account?: string | undefined
  /** XEP-0124 §7.1 `route` (`xmpp:host:port`), for a standalone connection manager. */
  readonly route?: BoshSession.Options["route"]
  /** Requests the manager may hold (default `BoshOptions.defaults.hold`). */
  readonly hold?: BoshSession.Options["hold"]
  /** Longest hold, seconds (default `BoshOptions.defaults.wait`). */
  readonly wait?: BoshSession.Options["wait"]
  /** How long `close` waits for the manager to confirm the terminate. Default 10 seconds. */
  readonly closeTimeout?: Duration.Input | undefined
  /** Further session options (keys, retries…); `to`, `from`, `route`, `hold`, `wait` above win. */
  readonly session?: Omit<BoshSession.Options, "to" | "from" | "route" | "hold" | "wait"> | undefined
  readonly onTraffic?: Traffic.OnTraffic | undefined
}

/**
 * Whether a connection manager URL is encrypted (`https://`).
 *
 * @since 0.1.0
 */
export const isSecureUrl = (url: string): boolean => /^https:\/\//i.test(url)

const payloadScope = XmlSerializer.scopeWithDefault(Namespaces.HTTP_BIND)

/**
 * The request text as the XML console may show it: SASL payloads redacted.
 * If a secret payload cannot be found in the text, the whole body is hidden.
 *
 * @since 0.1.0
 */
export const redactRequest = (request: Pick<BoshSession.Request, "text" | "payloads">): string => {
  let text = request.text
  for (const payload of request.payloads) {
    if (!Traffic.isSecret(payload)) continue
    const secret = XmlSerializer.toXml(payload, payloadScope)
    if (!text.includes(secret)) return `<body>${Traffic.redactedText}</body>`
    text = text.replace(secret, XmlSerializer.toXml(Traffic.redact(payload), payloadScope))
  }
  return text
}

/**
 * The transport error for a session that ended with `error`. A connection
 * that could not be opened reads as over TCP (`ConnectFailed` or
 * `TlsFailed`, the `Connector`'s words, its error as `cause`); a relayed
 * stream error is `StreamError` with the XMPP condition.
 *
 * @since 0.1.0
 */
export const fromBoshError = (error: BoshError, established: boolean, url: string): TransportError => {
  const cause = error.cause
  const lost = established ? "ConnectionLost" : "ConnectFailed"
  if (cause instanceof TlsError) return new TransportError({ reason: "TlsFailed", message: `${url}: ${cause.message}`, cause })
  if (cause instanceof ConnectError || cause instanceof ProxyError) {
    return new TransportError({ reason: lost, message: `${url}: ${cause.message}`, cause })
  }
  if (isHttpError(cause)) {
    return new TransportError({ reason: lost, message: `${url}: ${error.message}`, condition: error.reason, cause })
  }
  if (error.reason === "remote-stream-error" && error.streamError !== undefined) {
    const streamError = StreamError.fromElement(error.streamError)
    return new TransportError({
      reason: "StreamError",
      message: `the server ended the stream: ${streamError.message}`,
      condition: streamError.reason,
      cause: streamError
    })
  }
  const where = error.uri === undefined ? "" : ` (go to ${error.uri})`
  const message = `BOSH session ${established ? "ended" : "could not be created"}: ${error.reason}: ${error.message}${where}`
  const reason = error.reason === "invalid-response" ? "InvalidXml" : lost
  return new TransportError({ reason, message, condition: error.reason, cause: error })
}

const rejected = (error: BoshConnection.BoshRejected, closed: boolean) =>
  new TransportError({
    reason: closed ? "Closed" : "WriteFailed",
    message: `BOSH ${error.request.toLowerCase()} refused: ${error.message}`,
    cause: error
  })

/**
 * Creates the BOSH session and returns the transport once the manager
 * answered the session creation request; the session lives as long as the
 * scope. Fails with `ConnectFailed` (condition: the `BoshError` reason) when
 * the session cannot be created.
 *
 * @since 0.1.0
 */
export const connect = (
  options: Options
): Effect.Effect<Transport, TransportError, Scope.Scope | HttpClient.HttpClient | SecureRandom.SecureRandom> =>
  Effect.gen(function*() {
    const url = options.http.url
    const secure = isSecureUrl(url)
    const onTraffic = options.onTraffic
    const connection = yield* BoshConnection.connect({
      http: options.http,
      session: {
        ...options.session,
        to: options.domain,
        // XEP-0206 §4: the account only travels over an encrypted channel.
        from: secure ? options.account : undefined,
        route: options.route,
        hold: options.hold,
        wait: options.wait
      },
      onRequest: onTraffic === undefined ? undefined : (request) => onTraffic("out", redactRequest(request)),
      onResponse: onTraffic === undefined ? undefined : (bytes) => onTraffic("in", BoshHttpExchange.decodeText(bytes))
    }).pipe(Effect.mapError((error) => fromBoshError(error, false, url)))

    const parameters = yield* connection.established.pipe(Effect.mapError((error) => fromBoshError(error, false, url)))
    const closeTimeout = Duration.fromInputUnsafe(options.closeTimeout ?? Duration.seconds(10))

    /** Events owed before the next payload: the synthesized header, then a relayed stream error or close. */
    const owed: Array<XmlStreamEvent.XmlStreamEvent> = [
      { _tag: "StreamOpen", header: BoshStreamHeader.fromSession(parameters, options.domain) }
    ]
    /** Set once the session's end was turned into events and a final error. */
    let finalError: TransportError | undefined
    let closing = false

    // How the end of the session reads to `receive`: a relayed stream
    // error first (so XMPP sees its condition), then the end itself.
    const settle = (exit: Exit.Exit<void, BoshError>): TransportError => {
      if (finalError !== undefined) return finalError
      if (Exit.isSuccess(exit)) {
        finalError = new TransportError({ reason: "Closed", message: "the BOSH session was closed" })
        return finalError
      }
      const error = Option.getOrUndefined(Exit.findErrorOption(exit))
      if (error === undefined) {
        finalError = new TransportError({ reason: "ConnectionLost", message: "the BOSH session was interrupted" })
        return finalError
      }
      if (error.reason === "remote-stream-error" && error.streamError !== undefined) {
        owed.push({ _tag: "StreamElement", element: error.streamError })
      } else if (error.reason === "terminated-by-connection-manager") {
        // The manager ended the session without an error: the stream closed.
        owed.push({ _tag: "StreamClose" })
      }
      finalError = closing && error.reason === "item-not-found"
        ? new TransportError({ reason: "Closed", message: "the BOSH session was closed" })
        : fromBoshError(error, true, url)
      return finalError
    }

    const endedExit = Effect.exit(connection.ended)

    const scope = yield* Effect.scope
    /** Whether the session is over (cleanly or not): refusals then mean `Closed`. */
    let over = false
    yield* Effect.forkIn(Effect.andThen(endedExit, Effect.sync(() => (over = true))), scope)

    const asEvent = (element: Element.Element): XmlStreamEvent.XmlStreamEvent => ({ _tag: "StreamElement", element })

    const receive: Effect.Effect<XmlStreamEvent.XmlStreamEvent, TransportError> = Effect.gen(function*() {
      const next = owed.shift()
      if (next !== undefined) return next
      // Payloads already delivered come before the news of the end.
      const ready = yield* connection.tryReceive
      if (Option.isSome(ready)) return asEvent(ready.value)
      if (finalError !== undefined) return yield* Effect.fail(finalError)
      // The connection's `receive` fails (with `Done`) only once the session ended and its last
      // payloads were taken: no race against the end per payload.
      return yield* Effect.catch(
        Effect.map(connection.receive, asEvent),
        () =>
          Effect.flatMap(endedExit, (exit) => {
            settle(exit)
            return receive
          })
      )
    })

    // A session that ended with an error answers every call with that error.
    const whenRefused = (error: BoshConnection.BoshRejected | BoshError) =>
      Effect.fail(error._tag === "BoshError" ? settle(Exit.fail(error)) : rejected(error, closing || over))

    /** `effect`, unless our close began: then nothing more can be sent. */
    const whileOpen = <A>(effect: Effect.Effect<A, TransportError>) =>
      Effect.suspend(() =>
        closing
          ? Effect.fail(new TransportError({ reason: "Closed", message: "the BOSH session is closed; nothing more can be sent" }))
          : effect
      )

    const sendAll = (elements: ReadonlyArray<Element.Element>) => whileOpen(Effect.catch(connection.send(elements), whenRefused))
    const send = (element: Element.Element) => sendAll([element])

    const close = (lastElements: ReadonlyArray<Element.Element> = []) =>
      Effect.gen(function*() {
        if (closing) {
          if (lastElements.length === 0) return
          return yield* new TransportError({ reason: "Closed", message: "the BOSH session is already closed" })
        }
        closing = true
        const outcome = yield* connection.close(lastElements).pipe(Effect.timeoutOption(closeTimeout), Effect.result)
        if (outcome._tag === "Success") {
          if (Option.isSome(outcome.success)) return
          return yield* new TransportError({
            reason: "CloseUnconfirmed",
            message: `the connection manager did not confirm the terminate (waited up to ${Duration.format(closeTimeout)})`
          })
        }
        const error = outcome.failure
        if (error._tag === "BoshRejected" || over) {
          // The session was already over: whether that was clean decides.
          const ended = yield* endedExit
          const settled = settle(ended)
          if (settled.reason === "Closed") return
          return yield* new TransportError({
            reason: "CloseUnconfirmed",
            message: `the BOSH session ended before the terminate: ${settled.message}`,
            condition: settled.condition,
            cause: settled
          })
        }
        return yield* new TransportError({
          reason: "CloseUnconfirmed",
          message: `the BOSH terminate was not confirmed: ${error.reason}: ${error.message}`,
          condition: error.reason,
          cause: error
        })
      })

    // XEP-0124 §9: the manager received a request once it answered it (in rid order).
    const receipts: Receipts = {
      sendTracked: (element) =>
        whileOpen(connection.sendTracked([element]).pipe(
          Effect.map(Effect.mapError((error) => settle(Exit.fail(error)))),
          Effect.catch(whenRefused)
        )),
      unacknowledged: connection.unacknowledged
    }

    const transport: Transport = {
      kind: "bosh",
      receipts,
      secure,
      channel: Option.none(),
      receive,
      send,
      sendAll,
      sendStreamHeader: () =>
        Effect.fail(new TransportError({ reason: "Unsupported", message: "BOSH has no stream header to write" })),
      // Built when asked for: an error made up front keeps its captured stack in every session.
      startTls: Effect.suspend(() =>
        Effect.fail(new TransportError({ reason: "Unsupported", message: "STARTTLS does not exist over BOSH; use an https:// URL" }))
      ),
      restart: Effect.catch(connection.restart, whenRefused),
      close
    }
    return transport
  })
