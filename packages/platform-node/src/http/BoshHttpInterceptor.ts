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
 * - enforces the config's timeout (no status line within it of the request
 *   going out, or a pause that long inside the body) with one native timer
 *   per request, armed when undici starts writing it, pushed back by each
 *   part of the answer, cleared at its end; on expiry the request is aborted
 *   on its connection with an `HttpError` `Timeout`. Not undici's
 *   `headersTimeout` / `bodyTimeout`: those run on undici's coarse clock, a
 *   499 ms timer that fires as long as any request waits, so an idle BOSH
 *   session (its held request waiting up to `wait`) woke the process twice a
 *   second; a native timer fires only if the deadline passes. Still no racing
 *   Effect timer per request. (The session machine's own, shorter deadlines
 *   end most exchanges first; this is the outer bound.)
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
    // undici's own timeouts off: BoshHandler keeps the deadline (see above).
    let next: Undici.Dispatcher.DispatchOptions = { ...opts, headersTimeout: 0, bodyTimeout: 0 }
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
    return dispatch(
      next,
      new BoshHandler(handler, timeout, options.timeoutMillis, typeof onWritten === "function" ? () => onWritten() : undefined)
    )
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
 * `RequestWritten` callback, `onResponseStart` adds the reason phrase header,
 * the deadline timer runs from `onRequestStart` to the answer's end, and
 * `onResponseError` turns undici's timeouts (if a caller set its own) into
 * `HttpError`.
 */
class BoshHandler implements Undici.Dispatcher.DispatchHandler {
  readonly inner: Undici.Dispatcher.DispatchHandler
  readonly timeout: () => HttpError
  readonly timeoutMillis: number
  onWritten: (() => void) | undefined
  deadline: ReturnType<typeof setTimeout> | undefined
  constructor(
    inner: Undici.Dispatcher.DispatchHandler,
    timeout: () => HttpError,
    timeoutMillis: number,
    onWritten: (() => void) | undefined
  ) {
    this.inner = inner
    this.timeout = timeout
    this.timeoutMillis = timeoutMillis
    this.onWritten = onWritten
  }
  /** Arms the deadline: on expiry the request is aborted on its connection with a `Timeout`. */
  arm(controller: Undici.Dispatcher.DispatchController): void {
    if (!(this.timeoutMillis > 0)) return
    this.deadline = setTimeout(() => {
      this.deadline = undefined
      controller.abort(this.timeout())
    }, this.timeoutMillis)
    // As undici's own timers: a waiting request's deadline alone does not keep the process up.
    this.deadline.unref()
  }
  disarm(): void {
    if (this.deadline === undefined) return
    clearTimeout(this.deadline)
    this.deadline = undefined
  }
  /** undici calls this once the whole request is written to the socket (not part of its typed handler API). */
  onRequestSent(): void {
    const onWritten = this.onWritten
    this.onWritten = undefined
    onWritten?.()
  }
  onRequestStart(controller: Undici.Dispatcher.DispatchController, context: unknown): void {
    this.arm(controller)
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
    this.deadline?.refresh()
    this.inner.onResponseStart?.(controller, statusCode, withPhrase, statusMessage)
  }
  onResponseData(controller: Undici.Dispatcher.DispatchController, chunk: Buffer): void {
    this.deadline?.refresh()
    this.inner.onResponseData?.(controller, chunk)
  }
  onResponseEnd(controller: Undici.Dispatcher.DispatchController, trailers: ResponseHeaders): void {
    this.disarm()
    this.inner.onResponseEnd?.(controller, trailers)
  }
  onResponseError(controller: Undici.Dispatcher.DispatchController, error: Error): void {
    this.disarm()
    const code = "code" in error ? error.code : undefined
    this.inner.onResponseError?.(controller, timeoutCodes.has(code) ? this.timeout() : error)
  }
}

type ResponseHeaders = Parameters<NonNullable<Undici.Dispatcher.DispatchHandler["onResponseStart"]>>[2]
