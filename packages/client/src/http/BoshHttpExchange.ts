/**
 * One BOSH HTTP exchange: POST a `<body/>` to the connection manager and
 * read its answer, bounded. This is the only place a BOSH request is sent
 * and its answer read (`BoshConnection` calls it; so do the tests).
 *
 * - The answer is read up to `maxResponseBytes` and no further: a
 *   `Content-Length` above it fails before reading, and a body without one
 *   (or longer than it said) is cut off as soon as it passes the limit, so
 *   memory stays flat whatever the manager sends.
 * - Every failure is typed: `HttpError` for the exchange itself, or the
 *   `Connector`'s `ConnectError`, `ProxyError`, `TlsError` when a connection
 *   could not be opened (Node layer; fetch cannot tell those apart).
 * - Any status from the manager is an answer (XEP-0124 gives 400, 403 and
 *   404 meanings; the session machine classifies statuses). Only a proxy
 *   refusing our credentials (407, or 401 from a proxy) and a proxy's
 *   502/504 are failures here.
 * - `onWritten` is called once the request's bytes were handed to the
 *   connection (see `RequestWritten`), so a driver can keep requests in
 *   order on the wire.
 *
 * How long an exchange may take is the caller's business: the session
 * machine gives each request its own deadline and the driver interrupts the
 * exchange; the HTTP layers add their own outer bounds (`BoshHttpConfig`).
 *
 * @since 0.1.0
 */
import { Bytes, Effect, Option, Stream } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import { ConnectError } from "../net/ConnectError.js"
import type { ConnectFailure } from "../net/Connector.js"
import { ProxyError } from "../net/ProxyError.js"
import { TlsError } from "../net/TlsError.js"
import type { BoshHttpConfig } from "./BoshHttpConfig.js"
import { HttpError, type HttpHop, isHttpError } from "./HttpError.js"
import { reasonPhrase } from "./ReasonPhrase.js"
import { RequestWritten } from "./RequestWritten.js"

/**
 * A whole answer from the connection manager, any status. ejabberd reports
 * BOSH errors with status 200 and says why in `reasonPhrase` (e.g.
 * `Some("Session ID mismatch")` beside a terminate body), so a driver looks
 * at both.
 *
 * @since 0.1.0
 */
export interface BoshHttpResponse {
  readonly status: number
  readonly reasonPhrase: Option.Option<string>
  readonly bytes: Uint8Array
}

/**
 * What an exchange may fail with.
 *
 * @since 0.1.0
 */
export type ExchangeError = HttpError | ConnectFailure

/**
 * The content type XEP-0124 uses for request bodies.
 *
 * @since 0.1.0
 */
export const contentType = "text/xml; charset=utf-8"

/**
 * The settings an exchange reads.
 *
 * @since 0.1.0
 */
export type ExchangeConfig = Pick<BoshHttpConfig, "url" | "proxy" | "maxResponseBytes">

/**
 * Sends `body` (a serialized `<body/>` element) to `config.url` and reads
 * the answer, at most `config.maxResponseBytes` of it.
 *
 * @since 0.1.0
 */
export const post = (
  config: ExchangeConfig,
  body: string,
  onWritten?: (() => void) | undefined
): Effect.Effect<BoshHttpResponse, ExchangeError, HttpClient.HttpClient> => {
  const peer: HttpHop = config.proxy === undefined ? "connection-manager" : "proxy"
  const request = HttpClientRequest.post(config.url).pipe(HttpClientRequest.bodyText(body, contentType))
  const execute = HttpClient.execute(request)
  return (onWritten === undefined ? execute : Effect.provideService(execute, RequestWritten, onWritten)).pipe(
    Effect.flatMap((response) => readAnswer(config, peer, response)),
    Effect.catchTag("HttpClientError", (error) => Effect.fail(fromClientError(config.url, peer, error)))
  )
}

const readAnswer = (
  config: ExchangeConfig,
  peer: HttpHop,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<BoshHttpResponse, HttpError | HttpClientError.HttpClientError> => {
  const phrase = reasonPhrase(response)
  const bytes = readBytes(config, peer, response)
  const refusal = proxyRefusal(config, response.status, phrase)
  if (refusal === undefined) return Effect.map(bytes, (bytes) => ({ status: response.status, reasonPhrase: phrase, bytes }))
  // Read the (bounded) refusal anyway, so a kept-alive connection is free again.
  return Effect.andThen(Effect.ignore(bytes), Effect.fail(refusal))
}

const empty = new Uint8Array(0)

declare const TextDecoder: new(label: "utf-8") => { decode(input: Uint8Array): string }
const decoder = new TextDecoder("utf-8")

/**
 * Bytes of a body as text (UTF-8, as XEP-0124 bodies are).
 *
 * @since 0.1.0
 */
export const decodeText = (bytes: Uint8Array): string => decoder.decode(bytes)

/**
 * The answer's body as text.
 *
 * @since 0.1.0
 */
export const text = (response: BoshHttpResponse): string => decodeText(response.bytes)

/**
 * The `ResponseTooLarge` failure for an answer of `size` bytes (a number, or
 * e.g. `over 4096` while counting), shared with the HTTP layers that bound
 * the answer themselves while reading it.
 *
 * @since 0.1.0
 */
export const responseTooLarge = (
  config: ExchangeConfig,
  size: string,
  peer: HttpHop = config.proxy === undefined ? "connection-manager" : "proxy"
): HttpError =>
  new HttpError({
    reason: "ResponseTooLarge",
    message: `the answer from ${config.url} is ${size} bytes, more than the ${config.maxResponseBytes} allowed (maxResponseBytes)`,
    hop: peer,
    url: config.url
  })

/**
 * The body, refusing more than `maxResponseBytes`: a larger `Content-Length`
 * fails before anything is read; otherwise bytes are counted as they arrive
 * and the read stops (which aborts the exchange) once they pass the limit.
 */
const readBytes = (
  config: ExchangeConfig,
  peer: HttpHop,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<Uint8Array, HttpError | HttpClientError.HttpClientError> =>
  Effect.suspend(() => {
    const limit = config.maxResponseBytes
    // Built only when needed: an error captures a stack trace, which is dear.
    const tooLarge = (size: string) => responseTooLarge(config, size, peer)
    const declared = response.headers["content-length"]
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) {
      return Effect.fail(tooLarge(declared))
    }
    const chunks: Array<Uint8Array> = []
    let received = 0
    return response.stream.pipe(
      Stream.runForEach((chunk) => {
        received += chunk.length
        if (received > limit) return Effect.fail(tooLarge(`over ${limit}`))
        chunks.push(chunk)
        return Effect.void
      }),
      Effect.map(() => (chunks.length === 1 ? chunks[0] ?? empty : Bytes.concat(chunks))),
      // fetch gives no stream at all for an empty body.
      Effect.catchTag("HttpClientError", (error) =>
        error.reason._tag === "EmptyBodyError" ? Effect.succeed(empty) : Effect.fail(error))
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

/** A proxy's own failure (credentials refused, manager unreachable through it), or undefined for the manager's answer. */
const proxyRefusal = (config: ExchangeConfig, status: number, phrase: Option.Option<string>): HttpError | undefined => {
  const hasProxy = config.proxy !== undefined
  const authentication = isProxyAuthentication(hasProxy, status)
  // 502/504 are gateway statuses: with a proxy, it could not reach (or wait for) the manager.
  if (!authentication && !(hasProxy && (status === 502 || status === 504))) return undefined
  const shown = Option.match(phrase, { onNone: () => `${status}`, onSome: (text) => `${status} ${text}` })
  return new HttpError({
    reason: authentication ? "ProxyAuthenticationRequired" : "UnexpectedStatus",
    message: authentication
      ? `the HTTP proxy refused the credentials (${shown}) for ${config.url}`
      : `the HTTP proxy answered ${shown} for ${config.url}`,
    hop: "proxy",
    url: config.url,
    status,
    ...Option.match(phrase, { onNone: () => ({}), onSome: (reasonPhrase) => ({ reasonPhrase }) })
  })
}

const isConnectFailure = (u: unknown): u is ConnectFailure =>
  u instanceof ConnectError || u instanceof ProxyError || u instanceof TlsError

const fromClientError = (url: string, peer: HttpHop, error: HttpClientError.HttpClientError): ExchangeError => {
  const reason = error.reason
  // The layers report their own failures (a connection that could not be
  // opened, a timeout, an oversized answer) as typed errors; undici and
  // effect hand them back as the cause of a transport or decode error.
  if ("cause" in reason && (isHttpError(reason.cause) || isConnectFailure(reason.cause))) return reason.cause
  return new HttpError({
    reason: "ConnectionLost",
    message: `the exchange with ${url} broke off: ${describe(reason)}`,
    hop: peer,
    url,
    cause: error
  })
}

const describe = (reason: HttpClientError.HttpClientErrorReason): string => {
  const cause = "cause" in reason ? reason.cause : undefined
  if (!(cause instanceof Error)) return reason._tag
  const code = "code" in cause && typeof cause.code === "string" ? ` (${cause.code})` : ""
  return `${cause.message}${code}`
}
