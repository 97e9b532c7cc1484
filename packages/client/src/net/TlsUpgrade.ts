/**
 * The port that turns an open plaintext connection into TLS: STARTTLS
 * (RFC 6120 §5) after `<proceed/>`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Connection } from "./Connection.js"
import type { TlsOptions } from "./Route.js"
import type { TlsError } from "./TlsError.js"

/**
 * @since 0.1.0
 */
export class TlsUpgrade extends Context.Service<TlsUpgrade, {
  /**
   * Starts TLS on `connection` and returns the encrypted connection. Release
   * the reader of the plaintext `connection.socket` first and do not use it
   * afterwards: its bytes now belong to TLS. The certificate is verified
   * against `options.servername` (default: the route's host). ALPN is not
   * offered unless `options.alpnProtocols` asks for it (STARTTLS has none).
   */
  readonly upgrade: (connection: Connection, options?: TlsOptions) => Effect.Effect<Connection, TlsError, Scope.Scope>
}>()("@xmpp-core/client/net/TlsUpgrade") {}
