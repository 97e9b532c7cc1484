/**
 * An open byte duplex to a peer, as the Connector and the TLS port hand it out.
 *
 * @since 0.1.0
 */
import type * as Option from "effect/Option"
import type * as Socket from "effect/socket/Socket"
import type { Route } from "./Route.js"
import type { TlsInfo } from "./TlsInfo.js"

/**
 * An established connection. Its lifetime is the `Scope` it was opened in:
 * closing that scope closes the connection.
 *
 * `socket` is already connected: acquiring its `reader` does not dial again.
 * Bytes a proxy sent after its reply are the first bytes its reader yields.
 * Releasing the `writer` scope does not close the connection (the scope of
 * the connection does), so a STARTTLS upgrade can follow.
 *
 * @since 0.1.0
 */
export interface Connection {
  readonly socket: Socket.Socket
  /** `Some` once TLS is established on this connection. */
  readonly tls: Option.Option<TlsInfo>
  /** The route this connection followed (for error reports and the TLS upgrade's host name). */
  readonly route: Route
}
