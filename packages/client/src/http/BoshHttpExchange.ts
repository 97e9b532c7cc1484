/**
 * One BOSH HTTP exchange: POST a `<body/>` to the connection manager, read
 * the whole answer, and turn every failure into a typed error (`HttpError`,
 * or the `Connector`'s errors for connections that could not be opened).
 *
 * This is what a BOSH driver calls; which `HttpClient` carries it (undici on
 * Node, fetch elsewhere) is chosen by the Layer provided:
 *
 * ```ts
 * const answer = yield* BoshHttpExchange.post(config, xml).pipe(
 *   Effect.provide(NodeBoshHttpClient.layer(config)) // or FetchBoshHttpClient.layer(config)
 * )
 * // ejabberd explains a termination in the reason phrase, with status 200:
 * // "HTTP/1.1 200 Session ID mismatch" + <body type='terminate'
 * // condition='item-not-found'/>. Normal answers say "OK".
 * const explanation = Option.filter(answer.reasonPhrase, (phrase) => phrase !== "OK")
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Option, Stream } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import type { BoshHttpConfig } from "./BoshHttpConfig.js"
import { ConnectError } from "../net/ConnectError.js"
import type { ConnectFailure } from "../net/Connector.js"
import { ProxyError } from "../net/ProxyError.js"
import { TlsError } from "../net/TlsError.js"
import { HttpError, type HttpHop, isHttpError } from "./HttpError.js"
import { reasonPhrase } from "./ReasonPhrase.js"

/**
 * A whole answer from the connection manager. A 2xx status lands here;
 * ejabberd reports BOSH errors with status 200 and says why in
 * `reasonPhrase` (e.g. `Some("Session ID mismatch")` beside a terminate
 * body), so a driver looks at both.
 *
 * @since 0.1.0
 */
export interface BoshHttpResponse {
  readonly status: number
  readonly reasonPhrase: Option.Option<string>
  readonly body: string
}

/**
 * The content type XEP-0124 uses for request bodies.
 *
 * @since 0.1.0
 */
export const contentType = "text/xml; charset=utf-8"

/**
 * Sends `body` (a serialized `<body/>` element) to `config.url` and reads
 * the answer. Fails with `HttpError` on a non-2xx status, on a broken
 * exchange, on an answer over `config.maxResponseBytes`, and on a timeout;
 * with the `Connector`'s `ConnectError`, `ProxyError` or `TlsError` when a
 * connection could not be opened (Node layer; fetch cannot tell).
 *
 * `config.timeout` is enforced by the BOSH HTTP layers themselves
 * (`NodeBoshHttpClient` with undici's timers, `FetchBoshHttpClient` with an
 * Effect timer), which report it as `HttpError` `Timeout`; a plain
 * `HttpClient` without them has no timeout.
 *
 * @since 0.1.0
 */
export const post = (
  config: Pick<BoshHttpConfig, "url" | "proxy" | "maxResponseBytes">,
  body: string
): Effect.Effect<BoshHttpResponse, HttpError | ConnectFailure, HttpClient.HttpClient> => {
  const peer: HttpHop = config.proxy === undefined ? "connection-manager" : "proxy"
  const request = HttpClientRequest.post(config.url).pipe(HttpClientRequest.bodyText(body, contentType))
  return HttpClient.execute(request).pipe(
    Effect.flatMap((response) => readAnswer(config, peer, response)),
    Effect.catchTag("HttpClientError", (error) => Effect.fail(fromClientError(config.url, peer, error)))
  )
}

const readAnswer = (
  config: Pick<BoshHttpConfig, "url" | "proxy" | "maxResponseBytes">,
  peer: HttpHop,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<BoshHttpResponse, HttpError | HttpClientError.HttpClientError> => {
  const phrase = reasonPhrase(response)
  const text = readText(config, peer, response)
  if (response.status >= 200 && response.status < 300) {
    return Effect.map(text, (body) => ({ status: response.status, reasonPhrase: phrase, body }))
  }
  // Read the (small) error body anyway, so a kept-alive connection is free again.
  return Effect.andThen(Effect.ignore(text), Effect.fail(statusError(config, response.status, phrase)))
}

/**
 * The body as UTF-8 text, refusing more than `maxResponseBytes`. With a
 * `Content-Length` the size is known up front (and both transports stop at
 * it), so the body is read in one go; without one it is counted as it
 * streams in.
 */
const readText = (
  config: Pick<BoshHttpConfig, "url" | "maxResponseBytes">,
  peer: HttpHop,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<string, HttpError | HttpClientError.HttpClientError> =>
  Effect.suspend(() => {
    // Built only when needed: an error captures a stack trace, which is dear.
    const tooLarge = () =>
      new HttpError({
        reason: "ResponseTooLarge",
        message: `the answer from ${config.url} exceeds ${config.maxResponseBytes} bytes`,
        hop: peer,
        url: config.url
      })
    const declared = response.headers["content-length"]
    if (declared !== undefined && /^\d+$/.test(declared)) {
      return Number(declared) <= config.maxResponseBytes ? response.text : Effect.fail(tooLarge())
    }
    let received = 0
    return response.stream.pipe(
      Stream.mapEffect((chunk) => {
        received += chunk.length
        return received <= config.maxResponseBytes ? Effect.succeed(chunk) : Effect.fail(tooLarge())
      }),
      Stream.decodeText,
      Stream.mkString
    )
  })

/**
 * Whether a status is a proxy refusing our credentials. 407 always is. A 401
 * through a proxy is taken as one too: tinyproxy (1.11) answers rejected
 * proxy credentials with 401 and `WWW-Authenticate`, and BOSH managers
 * authenticate inside XMPP (SASL), never with HTTP 401.
 */
const isProxyAuthentication = (hasProxy: boolean, status: number): boolean =>
  status === 407 || (hasProxy && status === 401)

/**
 * The hop a status came from: proxy authentication (above), and 502/504,
 * which are gateway statuses: with a proxy configured they mean the proxy
 * could not reach (or wait for) the manager. Everything else is the manager's.
 */
const statusHop = (hasProxy: boolean, status: number): HttpHop =>
  isProxyAuthentication(hasProxy, status) || (hasProxy && (status === 502 || status === 504))
    ? "proxy"
    : "connection-manager"

const statusError = (
  config: Pick<BoshHttpConfig, "url" | "proxy">,
  status: number,
  phrase: Option.Option<string>
): HttpError => {
  const hop = statusHop(config.proxy !== undefined, status)
  const shown = Option.match(phrase, { onNone: () => `${status}`, onSome: (text) => `${status} ${text}` })
  return new HttpError({
    reason: isProxyAuthentication(config.proxy !== undefined, status) ? "ProxyAuthenticationRequired" : "UnexpectedStatus",
    message: `${hop} answered ${shown} for ${config.url}`,
    hop,
    url: config.url,
    status,
    ...Option.match(phrase, { onNone: () => ({}), onSome: (reasonPhrase) => ({ reasonPhrase }) })
  })
}

const isConnectFailure = (u: unknown): u is ConnectFailure =>
  u instanceof ConnectError || u instanceof ProxyError || u instanceof TlsError

const fromClientError = (
  url: string,
  peer: HttpHop,
  error: HttpClientError.HttpClientError
): HttpError | ConnectFailure => {
  const reason = error.reason
  // The layers report their own failures (a connection that could not be
  // opened, a timeout, an oversized answer) as typed errors; undici and
  // effect hand them back as the cause of a transport or decode error.
  if ("cause" in reason && (isHttpError(reason.cause) || isConnectFailure(reason.cause))) return reason.cause
  return new HttpError({
    reason: "ConnectionLost",
    message: `exchange with ${url} failed: ${describe(reason)}`,
    hop: peer,
    url,
    cause: error
  })
}

const describe = (reason: HttpClientError.HttpClientErrorReason): string => {
  const cause = "cause" in reason ? reason.cause : undefined
  return cause instanceof Error ? `${reason._tag}: ${cause.message}` : reason._tag
}
