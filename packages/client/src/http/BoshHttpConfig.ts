/**
 * How a BOSH client reaches its connection manager over HTTP, decoded with
 * `Schema` from plain data (a config file, CLI flags).
 *
 * @since 0.1.0
 */
import { BoshOptions } from "@xmpp-core/protocol"
import { Effect, Schema } from "effect"
import { ClientCertificate } from "../net/ClientCertificate.js"

/**
 * How HTTP requests share TCP connections.
 *
 * - `close`: a new connection for every request, at most `hold + 3` at once.
 * - `keep-alive` (default): a pool of `hold + 3` kept-alive connections, one
 *   request at a time on each. Both Prosody and ejabberd make a second
 *   request on one connection wait until the first is answered, and BOSH
 *   keeps up to `hold` requests waiting, so a new request needs a connection
 *   of its own; two more cover the extra request XEP-0124 §11 allows
 *   (terminate, pause) and a connection the pool has not released yet.
 *   With only `hold + 1`, undici sometimes queued a payload request behind
 *   the held poll, and ejabberd 23.01 (which answers the poll only when that
 *   payload arrives) stalled until its 30 s negotiation timeout (measured:
 *   2 logins in 8; 0 in 12 with `hold + 3`).
 * - `pipelining`: one connection, up to `hold + 1` requests written on it
 *   before their answers. Opt-in only: ejabberd (23.01) breaks with it —
 *   whenever two pipelined requests reach it in one read it answers the first
 *   with "400 XML is not well-formed" and never answers the second. Prosody
 *   serves them in order, but a held request delays every request behind it.
 *
 * @since 0.1.0
 */
export const BoshHttpMode = Schema.Literals(["close", "keep-alive", "pipelining"])

/**
 * @since 0.1.0
 */
export type BoshHttpMode = typeof BoshHttpMode.Type

/**
 * `hold` as the HTTP layer takes it: the XEP's bound (`BoshOptions.Hold`, 0
 * to 127) capped at 16. The reason is the pool: each held request keeps a
 * connection of its own (the managers serve one request per connection at a
 * time), so `hold` sizes the pool at `hold + 3` connections to one manager;
 * 16 keeps that at 19, where 127 would open 130.
 *
 * @since 0.1.0
 */
export const PooledHold = BoshOptions.Hold.check(Schema.isLessThanOrEqualTo(16))

const HttpUrl = Schema.String.check(
  Schema.isPattern(/^https?:\/\/[^\s/?#]+[^\s]*$/i, { message: "expected an absolute http:// or https:// URL" })
)

const ProxyUrl = Schema.String.check(
  Schema.isPattern(/^http:\/\/[^\s/?#]+\/?$/i, { message: "expected a proxy URL of the form http://host:port" })
)

const Pem = Schema.String.check(
  Schema.isPattern(/-----BEGIN CERTIFICATE-----/, { message: "expected PEM certificates (-----BEGIN CERTIFICATE-----)" })
)

/**
 * An HTTP proxy in front of the connection manager. Requests to an
 * `http://` manager are forwarded with an absolute URI; an `https://`
 * manager is reached through a CONNECT tunnel, TLS end to end. The password
 * is `Redacted`, so it never shows up in logs or error messages.
 *
 * @since 0.1.0
 */
export class BoshHttpProxy extends Schema.Class<BoshHttpProxy>("@xmpp-core/client/http/BoshHttpProxy")({
  url: ProxyUrl,
  username: Schema.optionalKey(Schema.String),
  password: Schema.optionalKey(Schema.RedactedFromValue(Schema.String))
}) {}

/**
 * The HTTP side of a BOSH session.
 *
 * - `url`: the connection manager, e.g. `https://localhost:5281/http-bind`.
 * - `mode`: see {@link BoshHttpMode}; default `keep-alive`.
 * - `hold`: the `hold` the session will ask for (default `BoshOptions.defaults.hold`,
 *   at most 16, see {@link PooledHold}): sizes the pool.
 * - `proxy`: an optional HTTP proxy before the manager.
 * - `ca`: extra trusted CA certificates (PEM), e.g. a test CA, added to the
 *   platform's roots. Certificates are always verified; there is no switch
 *   to turn that off.
 * - `systemRoots`: whether the platform's roots are trusted too (default
 *   true); `false` trusts `ca` alone.
 * - `clientCertificate`: presented on every HTTPS connection (SASL EXTERNAL).
 * - `timeout`: the longest one exchange may take, in milliseconds (default
 *   75 s: the default `wait` and 15 s). It must exceed the session's `wait`,
 *   or held requests time out.
 * - `maxResponseBytes`: the largest answer accepted (default 4 MiB), so a
 *   misbehaving peer cannot make the client buffer without bound.
 *
 * @since 0.1.0
 */
export class BoshHttpConfig extends Schema.Class<BoshHttpConfig>("@xmpp-core/client/http/BoshHttpConfig")({
  url: HttpUrl,
  mode: BoshHttpMode.pipe(Schema.withDecodingDefaultKey(Effect.succeed("keep-alive" as const))),
  hold: PooledHold.pipe(Schema.withDecodingDefaultKey(Effect.succeed(BoshOptions.defaults.hold))),
  proxy: Schema.optionalKey(BoshHttpProxy),
  ca: Schema.optionalKey(Pem),
  systemRoots: Schema.optionalKey(Schema.Boolean),
  clientCertificate: Schema.optionalKey(ClientCertificate),
  timeout: Schema.DurationFromMillis.pipe(
    Schema.withDecodingDefaultKey(Effect.succeed((BoshOptions.defaults.wait + 15) * 1000))
  ),
  maxResponseBytes: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(4 * 1024 * 1024))
  )
}) {}

/**
 * Decodes a config from unknown input; fails with a `SchemaError` that names
 * the offending field.
 *
 * @since 0.1.0
 */
export const decode = Schema.decodeUnknownEffect(BoshHttpConfig)

/**
 * How many connections and requests per connection a mode allows.
 *
 * @since 0.1.0
 */
export const connectionPlan = (
  config: Pick<BoshHttpConfig, "mode" | "hold">
): { readonly connections: number; readonly requestsPerConnection: number; readonly reuse: boolean } => {
  switch (config.mode) {
    case "close":
      return { connections: config.hold + 3, requestsPerConnection: 1, reuse: false }
    case "keep-alive":
      return { connections: config.hold + 3, requestsPerConnection: 1, reuse: true }
    case "pipelining":
      return { connections: 1, requestsPerConnection: config.hold + 1, reuse: true }
  }
}
