/**
 * The port that opens connections: TCP to the first address of a route,
 * each proxy handshake in turn, then TLS when the route asks for it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { ConnectError } from "./ConnectError.js"
import type { Connection } from "./Connection.js"
import type { ProxyError } from "./ProxyError.js"
import type { Route } from "./Route.js"
import type { TlsError } from "./TlsError.js"

/**
 * Any failure of opening a connection; each carries the hop it happened on.
 *
 * @since 0.1.0
 */
export type ConnectFailure = ConnectError | ProxyError | TlsError

/**
 * @since 0.1.0
 */
export class Connector extends Context.Service<Connector, {
  /**
   * Opens a connection along `route`. Every step is bounded by the
   * platform's connect timeout; a failure names the step that failed.
   */
  readonly connect: (route: Route) => Effect.Effect<Connection, ConnectFailure, Scope.Scope>
}>()("@xmpp-core/client/net/Connector") {}
