/**
 * BOSH HTTP clients run without effect's per-request tracing.
 *
 * effect's `HttpClient` opens a client span for every request and writes
 * `traceparent` and `b3` headers into it. For BOSH that is wrong three ways:
 * the headers hand our trace ids to the connection manager and any proxy; in
 * a browser they make a cross-origin request need a CORS preflight that the
 * managers fail (Prosody allows only `Content-Type`); and a span per held
 * poll is noise, not insight. Trace the BOSH session instead.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as HttpClient from "effect/http/HttpClient"

/**
 * `client` with neither client spans nor trace-context headers.
 *
 * @since 0.1.0
 */
export const disable = <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> =>
  HttpClient.transform(client, (effect) => Effect.provideService(effect, HttpClient.TracerDisabledWhen, () => true))
