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
 *   with the same `rid` gets the cached answer (XEP-0124 §14.3).
 *
 * @since 0.1.0
 */
import { ReasonPhrase } from "@xmpp-core/client"
import type * as Undici from "@effect/platform-node/Undici"
import { Redacted } from "effect"
import type { Duplex } from "node:stream"
import type { BoshHttpRoute } from "./BoshHttpRoute.js"

/**
 * @since 0.1.0
 */
export interface InterceptorOptions {
  readonly route: BoshHttpRoute
  readonly pipelining: boolean
}

/**
 * @since 0.1.0
 */
export const make = (options: InterceptorOptions): Undici.Dispatcher.DispatcherComposeInterceptor => (dispatch) => {
  const route = options.route
  return (opts, handler) => {
    let next: Undici.Dispatcher.DispatchOptions = opts
    if (route._tag === "Forward" && opts.origin !== undefined) {
      const origin = typeof opts.origin === "string" ? opts.origin : opts.origin.origin
      next = {
        ...next,
        path: origin + opts.path,
        headers: {
          ...headerRecord(opts.headers),
          ...(route.proxy.authorization === undefined
            ? {}
            : { "proxy-authorization": Redacted.value(route.proxy.authorization) })
        }
      }
    }
    if (options.pipelining) next = { ...next, idempotent: true, blocking: false }
    return dispatch(next, new ReasonPhraseHandler(handler))
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

/** Passes every callback through; only `onResponseStart` adds the header. */
class ReasonPhraseHandler implements Undici.Dispatcher.DispatchHandler {
  readonly inner: Undici.Dispatcher.DispatchHandler
  constructor(inner: Undici.Dispatcher.DispatchHandler) {
    this.inner = inner
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
    this.inner.onResponseError?.(controller, error)
  }
}

type ResponseHeaders = Parameters<NonNullable<Undici.Dispatcher.DispatchHandler["onResponseStart"]>>[2]
