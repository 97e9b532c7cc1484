/**
 * An undici interceptor that adapts each BOSH request and response:
 *
 * - copies the reason phrase of the status line into the response header
 *   `ReasonPhrase.header` (effect's undici response drops it; ejabberd puts
 *   BOSH conditions there), after removing any such header the server sent;
 * - for `Forward` routes, rewrites the request target to the absolute URI
 *   and adds `Proxy-Authorization` (RFC 9112 §3.2.2);
 * - in `pipelining` mode, marks the POST as idempotent and non-blocking, or
 *   undici would never pipeline it. BOSH makes that safe: a request resent
 *   with the same `rid` gets the cached answer (XEP-0124 §14.3);
 * - enforces the config's timeout with undici's own timers (no status line
 *   within it, or a pause that long inside the body) and reports it as an
 *   `HttpError` `Timeout`. undici's timers cost nothing extra per request,
 *   unlike a racing Effect timer. (The session machine's own, shorter
 *   deadlines end most exchanges first; this is the outer bound.)
 * - tells the request's `RequestWritten` callback (handed over as the
 *   dispatch option {@link onWrittenKey}) when undici has written the whole
 *   request to its socket, so the driver can send the next `rid` after it.
 *
 * @since 0.1.0
 */
import { HttpError, type HttpHop, ReasonPhrase } from "@xmpp-core/client"
import type * as Undici from "@effect/platform-node/Undici"
import { Redacted } from "effect"
import type { Duplex } from "node:stream"
import * as BoshHttpRoute from "./BoshHttpRoute.js"

/**
 * The dispatch option that carries a request's `RequestWritten` callback
 * from the `HttpClient` to this interceptor.
 *
 * @since 0.1.0
 */
export const onWrittenKey: unique symbol = Symbol.for("@xmpp-core/platform-node/BoshHttpInterceptor/onWritten")

/**
 * @since 0.1.0
 */
export interface InterceptorOptions {
  readonly route: BoshHttpRoute.BoshHttpRoute
  readonly pipelining: boolean
  readonly timeoutMillis: number
}

/**
 * @since 0.1.0
 */
export const make = (options: InterceptorOptions): Undici.Dispatcher.DispatcherComposeInterceptor => (dispatch) => {
  const route = options.route
  const peer: HttpHop = route._tag === "Direct" ? "connection-manager" : "proxy"
  return (opts, handler) => {
    const origin = opts.origin === undefined ? "" : typeof opts.origin === "string" ? opts.origin : opts.origin.origin
    let next: Undici.Dispatcher.DispatchOptions = {
      ...opts,
      headersTimeout: options.timeoutMillis,
      bodyTimeout: options.timeoutMillis
    }
    if (route._tag === "Forward" && origin !== "") {
      next = {
        ...next,
        path: origin + opts.path,
        headers: {
          ...headerRecord(opts.headers),
          ...(route.proxy.credentials === undefined
            ? {}
            : { "proxy-authorization": Redacted.value(BoshHttpRoute.basicAuthorization(route.proxy.credentials)) })
        }
      }
    }
    if (options.pipelining) next = { ...next, idempotent: true, blocking: false }
    const timeout = () =>
      new HttpError({
        reason: "Timeout",
        message: `no answer from ${origin}${opts.path} within ${options.timeoutMillis} ms`,
        hop: peer,
        url: `${origin}${opts.path}`
      })
    const onWritten: unknown = Reflect.get(opts, onWrittenKey)
    return dispatch(next, new BoshHandler(handler, timeout, typeof onWritten === "function" ? () => onWritten() : undefined))
  }
}

const headerRecord = (headers: Undici.Dispatcher.DispatchOptions["headers"]): Record<string, string | Array<string>> => {
  const record: Record<string, string | Array<string>> = {}
  if (headers === undefined || headers === null) return record
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]
      const value = headers[i + 1]
      if (typeof name === "string" && typeof value === "string") record[name] = value
    }
    return record
  }
  const entries: Iterable<readonly [string, unknown]> = Symbol.iterator in headers
    ? headers
    : Object.entries(headers)
  for (const [name, value] of entries) {
    if (typeof value === "string") record[name] = value
    else if (typeof value === "number") record[name] = String(value)
    else if (Array.isArray(value)) record[name] = value.filter((item): item is string => typeof item === "string")
  }
  return record
}

const timeoutCodes: ReadonlySet<unknown> = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"])

/**
 * Passes every callback through; `onRequestSent` tells the request's
 * `RequestWritten` callback, `onResponseStart` adds the reason phrase header
 * and `onResponseError` turns undici's timeouts into `HttpError`.
 */
class BoshHandler implements Undici.Dispatcher.DispatchHandler {
  readonly inner: Undici.Dispatcher.DispatchHandler
  readonly timeout: () => HttpError
  onWritten: (() => void) | undefined
  constructor(inner: Undici.Dispatcher.DispatchHandler, timeout: () => HttpError, onWritten: (() => void) | undefined) {
    this.inner = inner
    this.timeout = timeout
    this.onWritten = onWritten
  }
  /** undici calls this once the whole request is written to the socket (not part of its typed handler API). */
  onRequestSent(): void {
    const onWritten = this.onWritten
    this.onWritten = undefined
    onWritten?.()
  }
  onRequestStart(controller: Undici.Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context)
  }
  onRequestUpgrade(
    controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    headers: ResponseHeaders,
    socket: Duplex
  ): void {
    this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket)
  }
  onResponseStart(
    controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    headers: ResponseHeaders,
    statusMessage?: string
  ): void {
    const withPhrase: ResponseHeaders = { ...headers }
    delete withPhrase[ReasonPhrase.header]
    if (statusMessage !== undefined && statusMessage !== "") withPhrase[ReasonPhrase.header] = statusMessage
    this.inner.onResponseStart?.(controller, statusCode, withPhrase, statusMessage)
  }
  onResponseData(controller: Undici.Dispatcher.DispatchController, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk)
  }
  onResponseEnd(controller: Undici.Dispatcher.DispatchController, trailers: ResponseHeaders): void {
    this.inner.onResponseEnd?.(controller, trailers)
  }
  onResponseError(controller: Undici.Dispatcher.DispatchController, error: Error): void {
    const code = "code" in error ? error.code : undefined
    this.inner.onResponseError?.(controller, timeoutCodes.has(code) ? this.timeout() : error)
  }
}

type ResponseHeaders = Parameters<NonNullable<Undici.Dispatcher.DispatchHandler["onResponseStart"]>>[2]
