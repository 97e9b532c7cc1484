/**
 * The `HttpClient` for BOSH on Node: `BoshUndiciClient` (one undici
 * `dispatch` per request, the answer read whole and bounded) on an undici
 * `Agent` sized and wired for the config's mode, route and CA.
 *
 * | mode | connections per manager | requests per connection |
 * |---|---|---|
 * | `close` | up to `hold + 3`, a new one per request | 1 |
 * | `keep-alive` (default) | up to `hold + 3`, reused | 1 |
 * | `pipelining` | 1 | `hold + 1`, written back to back |
 *
 * `pipelining` is opt-in: ejabberd (23.01) breaks with it (when two pipelined
 * requests reach it in one read, the first gets "400 XML is not well-formed"
 * and the second is never answered, ending in a `Timeout`), so it only suits
 * Prosody-like managers.
 *
 * `config.timeout` is enforced here, by one native timer per request (see
 * `BoshHttpInterceptor`). Certificates are always verified, against Node's roots plus `config.ca` (or `config.ca` alone with `systemRoots: false`).
 * A proxy that closes the connection after every response (tinyproxy) is
 * fine: undici opens a new connection for the next request.
 *
 * @since 0.1.0
 */
import { BoshHttpClients, BoshHttpConfig } from "@xmpp-core/client"
import * as Undici from "@effect/platform-node/Undici"
import { Duration, Effect, Layer } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as Scope from "effect/Scope"
import * as BoshConnections from "./BoshConnections.js"
import * as BoshHttpInterceptor from "./BoshHttpInterceptor.js"
import * as BoshHttpRoute from "./BoshHttpRoute.js"
import * as BoshUndiciClient from "./BoshUndiciClient.js"

/**
 * The undici `Agent` options for a config: pool size, pipelining depth and
 * the connect hook of its route.
 *
 * @since 0.1.0
 */
export const agentOptions = (config: BoshHttpConfig.BoshHttpConfig): Undici.Agent.Options => {
  const plan = BoshHttpConfig.connectionPlan(config)
  return {
    connections: plan.connections,
    // One connection: a `Client`, as undici's own default; more: `BoshConnections`, not undici's
    // `Pool` (whose 16 KiB request queue was the largest object of an idle session).
    factory: (origin, options) =>
      plan.connections === 1
        ? new Undici.Client(origin, options)
        : new BoshConnections.BoshConnections(origin, { ...options, connections: plan.connections }),
    // undici: 0 turns keep-alive off, so each request gets a fresh connection.
    pipelining: plan.reuse ? plan.requestsPerConnection : 0,
    connect: BoshHttpRoute.makeConnect(BoshHttpRoute.fromConfig(config), {
      ca: config.ca,
      ...(config.systemRoots === undefined ? {} : { systemRoots: config.systemRoots }),
      timeout: config.timeout,
      ...(config.clientCertificate === undefined ? {} : { clientCertificate: config.clientCertificate })
    })
  }
}

/**
 * A scoped undici dispatcher for `config`, destroyed with its scope.
 *
 * @since 0.1.0
 */
export const makeDispatcher = (
  config: BoshHttpConfig.BoshHttpConfig
): Effect.Effect<Undici.Dispatcher, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new Undici.Agent(agentOptions(config))),
      (agent) => Effect.promise(() => agent.destroy())
    ),
    (agent) =>
      agent.compose(
        BoshHttpInterceptor.make({
          route: BoshHttpRoute.fromConfig(config),
          pipelining: config.mode === "pipelining",
          timeoutMillis: Duration.toMillis(config.timeout)
        })
      )
  )

/**
 * The BOSH `HttpClient` for `config`, with its own connections, closed with
 * the scope: the lean `BoshUndiciClient` on the config's dispatcher (no
 * spans, the answer bounded by `maxResponseBytes` while it is read, each
 * request's `RequestWritten` signalled by `BoshHttpInterceptor`).
 *
 * @since 0.1.0
 */
export const make = (config: BoshHttpConfig.BoshHttpConfig): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> =>
  Effect.map(makeDispatcher(config), (dispatcher) => BoshUndiciClient.make(dispatcher, { exchange: config }))

/**
 * {@link make} as a layer.
 *
 * @since 0.1.0
 */
export const layer = (config: BoshHttpConfig.BoshHttpConfig): Layer.Layer<HttpClient.HttpClient> =>
  Layer.effect(HttpClient.HttpClient)(make(config))

/**
 * `BoshHttpClients` on undici: each BOSH session gets its own connections,
 * sized and routed for its config, destroyed with the session. Made with
 * {@link make}, not by building {@link layer} per session (a layer built per
 * session keeps its memo map's finalizer and the layer's closures in the
 * session's scope: about 2.6 KiB per idle session).
 *
 * @since 0.1.0
 */
export const layerClients: Layer.Layer<BoshHttpClients.BoshHttpClients> = Layer.succeed(BoshHttpClients.BoshHttpClients)({
  make
})
