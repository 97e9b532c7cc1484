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
 * Why the exchange failed. Failures to open a connection are not here: they
 * are the `Connector`'s `ConnectError`, `ProxyError` and `TlsError`.
 *
 * - `ProxyAuthenticationRequired`: a forwarding proxy refused the
 *   credentials (none or wrong ones): 407, or 401 from a proxy (tinyproxy
 *   answers 401); `status` tells which.
 * - `UnexpectedStatus`: a non-2xx status (see `status` and `reasonPhrase`).
 * - `ConnectionLost`: the exchange broke before the whole response arrived
 *   (with fetch, also a connection that could not be opened: fetch does not
 *   tell the two apart).
 * - `ResponseTooLarge`: the answer exceeded the configured `maxResponseBytes`.
 * - `Timeout`: no response within the configured timeout.
 *
 * @since 0.1.0
 */
export type HttpErrorReason =
  | "ProxyAuthenticationRequired"
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
 * Whether a value is an `HttpError` (e.g. one that travelled through undici
 * as the cause of a transport error).
 *
 * @since 0.1.0
 */
export const isHttpError = (u: unknown): u is HttpError => u instanceof HttpError
