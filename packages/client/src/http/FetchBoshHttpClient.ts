/**
 * An `HttpClient` for BOSH on runtimes with `fetch` and without Node
 * (browsers, Deno, Bun, workers). No `node:*` import.
 *
 * fetch leaves connections to the runtime: it keeps them alive and pools
 * them (browsers allow about 6 per origin over HTTP/1.1, more than the
 * `hold + 1` BOSH needs), and it offers no pipelining, no per-client proxy
 * and no per-client CA. So this layer accepts `mode: "keep-alive"` only,
 * and refuses `close`, `pipelining`, `proxy`, `ca`, `systemRoots: false` and `clientCertificate` with a typed
 * `BoshHttpConfigError` rather than ignoring them: use the system's proxy
 * and trust store settings there. The reason phrase stays readable through
 * the web `Response` (see `ReasonPhrase`).
 *
 * @since 0.1.0
 */
import { Duration, Effect, Layer } from "effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type { BoshHttpConfig } from "./BoshHttpConfig.js"
import { BoshHttpConfigError } from "./BoshHttpConfigError.js"
import * as BoshHttpTracing from "./BoshHttpTracing.js"
import { HttpError } from "./HttpError.js"
import { RequestWritten } from "./RequestWritten.js"

/**
 * Checks that fetch can carry `config` as asked.
 *
 * @since 0.1.0
 */
export const validate = (config: BoshHttpConfig): Effect.Effect<BoshHttpConfig, BoshHttpConfigError> => {
  const unsupported = (field: string, message: string) =>
    Effect.fail(new BoshHttpConfigError({ reason: "UnsupportedByRuntime", message, field }))
  if (config.mode !== "keep-alive") {
    return unsupported("mode", `fetch cannot do mode "${config.mode}"; it pools kept-alive connections itself`)
  }
  if (config.proxy !== undefined) {
    return unsupported("proxy", "fetch has no per-client proxy; configure the runtime's proxy instead")
  }
  if (config.ca !== undefined) {
    return unsupported("ca", "fetch has no per-client CA; add the CA to the runtime's trust store instead")
  }
  if (config.systemRoots === false) {
    return unsupported("systemRoots", "fetch always trusts the runtime's roots; it cannot trust a CA alone")
  }
  if (config.clientCertificate !== undefined) {
    return unsupported("clientCertificate", "fetch cannot present a client certificate; the runtime's TLS stack decides")
  }
  return Effect.succeed(config)
}

/**
 * fetch tells nothing of when a request is written: its `RequestWritten`
 * callback is called as the request is handed to fetch, which keeps the
 * requests in the order they were issued.
 */
const signalWritten = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.service(RequestWritten), (onWritten) =>
    onWritten === undefined ? effect : Effect.andThen(Effect.sync(onWritten), effect))

/**
 * The fetch `HttpClient`, after checking that `config` fits it, without
 * tracing (see `BoshHttpTracing`: trace headers would fail CORS). Each request
 * must see its response head within `config.timeout`, else it fails with an
 * `HttpError` `Timeout` (as the transport error's cause, which
 * `BoshHttpExchange.post` unwraps).
 *
 * @since 0.1.0
 */
export const layer = (config: BoshHttpConfig): Layer.Layer<HttpClient.HttpClient, BoshHttpConfigError> =>
  Layer.effect(HttpClient.HttpClient)(
    Effect.gen(function*() {
      yield* validate(config)
      const fetchClient = BoshHttpTracing.disable(yield* HttpClient.HttpClient)
      return HttpClient.transform(fetchClient, (effect, request) =>
        Effect.timeoutOrElse(signalWritten(effect), {
          duration: config.timeout,
          orElse: () =>
            Effect.fail(
              new HttpClientError.HttpClientError({
                reason: new HttpClientError.TransportError({
                  request,
                  cause: new HttpError({
                    reason: "Timeout",
                    message: `no answer from ${request.url} within ${Duration.format(config.timeout)}`,
                    hop: "connection-manager",
                    url: request.url
                  })
                })
              })
            )
        }))
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
