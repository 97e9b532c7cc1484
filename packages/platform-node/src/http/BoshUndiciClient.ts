/**
 * A lean `HttpClient` for BOSH on an undici `Dispatcher`: one `dispatch`
 * per request, the answer read whole into memory (bounded) before the
 * request's effect succeeds.
 *
 * Why not effect's undici client: BOSH posts a few hundred bytes and reads a
 * few hundred back, many times a second. effect's client wraps every
 * request in an `AbortController` (a signal listener, a `FinalizationRegistry`
 * entry, and on every body read to its end `controller.abort()`, which
 * builds a `DOMException` with a stack), a Node `Readable` for the body and
 * a stream of it; measured at about a quarter of the client's CPU per BOSH
 * round trip. Here:
 *
 * - the body is counted as it arrives and the request is aborted as soon as
 *   it passes `maxResponseBytes` (a larger `Content-Length` aborts at the
 *   status line), failing with `HttpError` `ResponseTooLarge`, so memory
 *   stays bounded whatever the manager sends;
 * - an interrupted request is aborted on its connection (undici then frees
 *   or closes it); nothing is aborted otherwise;
 * - deadlines, the reason phrase, proxies and `RequestWritten` stay with the
 *   dispatcher (`BoshHttpInterceptor`): the request's `RequestWritten`
 *   callback is handed to it as a dispatch option;
 * - failures are `HttpClientError`s whose `cause` is what the dispatcher
 *   failed with (`ConnectError`, `TlsError`, `ProxyError` from the connect
 *   hook, `HttpError` from the interceptor or the size bound), as
 *   `BoshHttpExchange` expects;
 * - no spans, no trace-context headers (see `BoshHttpTracing`).
 *
 * It sends byte bodies only (what `BoshHttpExchange.post` sends); a stream
 * or form body fails with a `TransportError`.
 *
 * @since 0.1.0
 */
import { BoshHttpExchange, RequestWritten } from "@xmpp-core/client"
import type * as Undici from "@effect/platform-node/Undici"
import { Effect, Option, Stream } from "effect"
import * as Cookies from "effect/http/Cookies"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as UrlParams from "effect/http/UrlParams"
import * as Inspectable from "effect/Inspectable"
import type * as Schema from "effect/Schema"
import { pipeArguments } from "effect/Pipeable"
import * as BoshHttpInterceptor from "./BoshHttpInterceptor.js"

/**
 * @since 0.1.0
 */
export interface Options {
  /** Where the requests go (its `url` and `proxy` name the hop in a `ResponseTooLarge`). */
  readonly exchange: BoshHttpExchange.ExchangeConfig
}

/**
 * The client: every request is one `dispatch` on `dispatcher`.
 *
 * @since 0.1.0
 */
export const make = (dispatcher: Undici.Dispatcher, options: Options): HttpClient.HttpClient => {
  // A BOSH session posts to one URL: it is parsed once, not per request.
  let last: { readonly text: string; readonly url: URL } | undefined
  const urlOf = (request: HttpClientRequest.HttpClientRequest): URL | undefined => {
    if (last !== undefined && last.text === request.url && request.urlParams.params.length === 0 && Option.isNone(request.hash)) {
      return last.url
    }
    const url = parsedUrl(request)
    if (url !== undefined) last = { text: request.url, url }
    return url
  }
  return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (request) => Effect.flatMap(request, (request) => execute(dispatcher, options.exchange, request, urlOf(request))),
    (request) => Effect.succeed(request)
  )
}

const empty = new Uint8Array(0)

const transportError = (request: HttpClientRequest.HttpClientRequest, cause: unknown) =>
  new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, cause }) })

/** The request's URL, when it is absolute and has no parameters or hash (what BOSH posts to). */
const parsedUrl = (request: HttpClientRequest.HttpClientRequest): URL | undefined => {
  if (request.urlParams.params.length > 0 || Option.isSome(request.hash)) return undefined
  return URL.canParse(request.url) ? new URL(request.url) : undefined
}

const bodyOf = (request: HttpClientRequest.HttpClientRequest): Uint8Array | string | null | undefined => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return null
    case "Uint8Array":
      return body.body
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array ? body.body : undefined
    default:
      return undefined
  }
}

const execute = (
  dispatcher: Undici.Dispatcher,
  exchange: BoshHttpExchange.ExchangeConfig,
  request: HttpClientRequest.HttpClientRequest,
  url: URL | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.withFiber((fiber) => {
    if (url === undefined) {
      return Effect.fail(
        new HttpClientError.HttpClientError({
          reason: new HttpClientError.InvalidUrlError({ request, description: "not an absolute URL without parameters" })
        })
      )
    }
    const body = bodyOf(request)
    if (body === undefined) {
      return Effect.fail(transportError(request, new Error(`a ${request.body._tag} body is not supported here`)))
    }
    const onWritten = fiber.getRef(RequestWritten.RequestWritten)
    return Effect.callback<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
      const handler = new BufferingHandler(request, url.href, exchange, resume)
      const options: Undici.Dispatcher.DispatchOptions & { [BoshHttpInterceptor.onWrittenKey]?: () => void } = {
        origin: url.origin,
        path: url.pathname + url.search,
        method: request.method,
        headers: request.headers,
        body,
        ...(onWritten === undefined ? {} : { [BoshHttpInterceptor.onWrittenKey]: onWritten })
      }
      try {
        dispatcher.dispatch(options, handler)
      } catch (cause) {
        handler.fail(cause)
      }
      return Effect.sync(() => handler.interrupt())
    })
  })

/** Collects one answer, bounded, and resumes the request's effect once. */
class BufferingHandler implements Undici.Dispatcher.DispatchHandler {
  readonly request: HttpClientRequest.HttpClientRequest
  readonly url: string
  readonly exchange: BoshHttpExchange.ExchangeConfig
  resume: ((effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => void) | undefined
  controller: Undici.Dispatcher.DispatchController | undefined
  status = 0
  headers: Headers.Headers = Headers.empty
  chunks: Array<Uint8Array> = []
  received = 0
  constructor(
    request: HttpClientRequest.HttpClientRequest,
    url: string,
    exchange: BoshHttpExchange.ExchangeConfig,
    resume: (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => void
  ) {
    this.request = request
    this.url = url
    this.exchange = exchange
    this.resume = resume
  }
  /** Resumes once; later calls do nothing. */
  settle(effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>): void {
    const resume = this.resume
    this.resume = undefined
    resume?.(effect)
  }
  fail(cause: unknown): void {
    this.settle(Effect.fail(transportError(this.request, cause)))
  }
  /** The request's fiber was interrupted: abort the exchange on its connection. */
  interrupt(): void {
    if (this.resume === undefined) return
    this.resume = undefined
    this.controller?.abort(new Error("the request was interrupted"))
  }
  /** Fails with `ResponseTooLarge` and aborts the exchange (a kept-alive connection is then closed by undici). */
  tooLarge(controller: Undici.Dispatcher.DispatchController, size: string): void {
    if (this.resume === undefined) return
    const error = BoshHttpExchange.responseTooLarge(this.exchange, size)
    this.fail(error)
    controller.abort(error)
  }
  onRequestStart(controller: Undici.Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.resume === undefined) controller.abort(new Error("the request was interrupted"))
  }
  onResponseStart(
    controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void {
    if (statusCode < 200) return
    this.status = statusCode
    this.headers = Headers.fromInput(headers)
    const declared = this.headers["content-length"]
    const limit = this.exchange.maxResponseBytes
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) this.tooLarge(controller, declared)
  }
  onResponseData(controller: Undici.Dispatcher.DispatchController, chunk: Uint8Array): void {
    if (this.resume === undefined) return
    this.received += chunk.length
    if (this.received > this.exchange.maxResponseBytes) return this.tooLarge(controller, `over ${this.exchange.maxResponseBytes}`)
    this.chunks.push(chunk)
  }
  onResponseEnd(): void {
    const chunks = this.chunks
    let bytes: Uint8Array = empty
    if (chunks.length === 1) bytes = chunks[0] ?? empty
    else if (chunks.length > 1) bytes = Buffer.concat(chunks, this.received)
    this.settle(Effect.succeed(new BufferedResponse(this.request, this.url, this.status, this.headers, bytes)))
  }
  onResponseError(_controller: Undici.Dispatcher.DispatchController, error: Error): void {
    this.fail(error)
  }
}

declare const TextDecoder: new(label: "utf-8") => { decode(input: Uint8Array): string }
const decoder = new TextDecoder("utf-8")

/** A whole answer, already read. */
class BufferedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: typeof HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: typeof HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly request: HttpClientRequest.HttpClientRequest
  readonly url: string
  readonly status: number
  readonly headers: Headers.Headers
  readonly bytes: Uint8Array
  constructor(
    request: HttpClientRequest.HttpClientRequest,
    url: string,
    status: number,
    headers: Headers.Headers,
    bytes: Uint8Array
  ) {
    super()
    this.request = request
    this.url = url
    this.status = status
    this.headers = headers
    this.bytes = bytes
  }
  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }
  get cookies(): Cookies.Cookies {
    const header = this.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(header)
  }
  get stream(): Stream.Stream<Uint8Array, HttpClientError.HttpClientError> {
    return this.bytes.length === 0 ? Stream.empty : Stream.succeed(this.bytes)
  }
  get text(): Effect.Effect<string, HttpClientError.HttpClientError> {
    return Effect.sync(() => decoder.decode(this.bytes))
  }
  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.HttpClientError> {
    return Effect.sync(() => {
      const copy = new Uint8Array(this.bytes.length)
      copy.set(this.bytes)
      return copy.buffer
    })
  }
  get json(): Effect.Effect<Schema.Json, HttpClientError.HttpClientError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: (): Schema.Json => (text === "" ? null : JSON.parse(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }
  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.HttpClientError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }
  get formData(): Effect.Effect<FormData, HttpClientError.HttpClientError> {
    return Effect.fail(this.decodeError(new Error("form bodies are not read by the BOSH client")))
  }
  get upgrade(): Effect.Effect<never, HttpClientError.HttpClientError> {
    return Effect.fail(
      new HttpClientError.HttpClientError({
        reason: new HttpClientError.StatusCodeError({ request: this.request, response: this })
      })
    )
  }
  decodeError(cause: unknown): HttpClientError.HttpClientError {
    return new HttpClientError.HttpClientError({
      reason: new HttpClientError.DecodeError({ request: this.request, response: this, cause })
    })
  }
  toJSON(): unknown {
    return { _id: "HttpClientResponse", url: this.url, status: this.status, bytes: this.bytes.length }
  }
  pipe() {
    return pipeArguments(this, arguments)
  }
}
