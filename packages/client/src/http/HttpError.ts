/**
 * The one failure family of BOSH's HTTP layer: every way an HTTP exchange
 * with a connection manager can fail, typed, with the hop it failed on.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * Which hop of the path failed: the HTTP proxy in front of the connection
 * manager, or the connection manager itself.
 *
 * For a lost connection the hop is the peer of our TCP connection (the proxy
 * whenever one is configured, even inside a CONNECT tunnel): that is the only
 * hop the client can observe directly.
 *
 * @since 0.1.0
 */
export type HttpHop = "proxy" | "connection-manager"

/**
 * Why the exchange failed. Names follow RFC 9110 where it names the
 * condition (407 Proxy Authentication Required).
 *
 * - `ConnectFailed`: the TCP connection could not be opened.
 * - `TlsFailed`: the TLS handshake failed, certificate or host name not
 *   verified among others.
 * - `ProxyAuthenticationRequired`: the proxy refused the credentials (no or
 *   wrong ones): 407, or 401 from a proxy (tinyproxy answers 401); `status`
 *   tells which.
 * - `TunnelRefused`: the proxy answered a CONNECT with another non-2xx status.
 * - `UnexpectedStatus`: a non-2xx status (see `status` and `reasonPhrase`).
 * - `ConnectionLost`: the connection broke before the whole response arrived.
 * - `ResponseTooLarge`: the answer exceeded the configured `maxResponseBytes`.
 * - `Timeout`: no whole response within the configured timeout.
 *
 * @since 0.1.0
 */
export type HttpErrorReason =
  | "ConnectFailed"
  | "TlsFailed"
  | "ProxyAuthenticationRequired"
  | "TunnelRefused"
  | "UnexpectedStatus"
  | "ConnectionLost"
  | "ResponseTooLarge"
  | "Timeout"

/**
 * An HTTP exchange failed. `status` and `reasonPhrase` are set when a hop
 * answered with a status line.
 *
 * @since 0.1.0
 */
export class HttpError extends Data.TaggedError("HttpError")<{
  readonly reason: HttpErrorReason
  readonly message: string
  readonly hop: HttpHop
  /** The URL (or origin) the failed exchange was addressed to. */
  readonly url: string
  readonly status?: number
  readonly reasonPhrase?: string
  readonly cause?: unknown
}> {}

/**
 * Whether a value is an `HttpError` (also when it travelled as the cause of
 * another error, e.g. through undici's connect callback).
 *
 * @since 0.1.0
 */
export const isHttpError = (u: unknown): u is HttpError => u instanceof HttpError
