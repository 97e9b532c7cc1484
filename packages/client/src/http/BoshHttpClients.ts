/**
 * The platform port a BOSH transport needs: an `HttpClient` made for one
 * session's `BoshHttpConfig` (its mode, proxy and CA), living as long as the
 * session's scope. Node provides it on undici (`NodeBoshHttpClient.layerClients`
 * in @xmpp-core/platform-node), other runtimes on fetch ({@link layerFetch}).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as Scope from "effect/Scope"
import type { BoshHttpConfig } from "./BoshHttpConfig.js"
import type { BoshHttpConfigError } from "./BoshHttpConfigError.js"
import * as FetchBoshHttpClient from "./FetchBoshHttpClient.js"

/**
 * @since 0.1.0
 */
export class BoshHttpClients extends Context.Service<BoshHttpClients, {
  /**
   * An `HttpClient` for `config`, with its own connections, closed with the
   * scope. Fails with `UnsupportedByRuntime` for what the runtime cannot do.
   */
  readonly make: (config: BoshHttpConfig) => Effect.Effect<HttpClient.HttpClient, BoshHttpConfigError, Scope.Scope>
}>()("@xmpp-core/client/BoshHttpClients") {}

/**
 * Makes clients from a function giving the `HttpClient` layer of a config.
 *
 * @since 0.1.0
 */
export const fromLayer = <E extends BoshHttpConfigError>(
  layerOf: (config: BoshHttpConfig) => Layer.Layer<HttpClient.HttpClient, E>
): BoshHttpClients["Service"] => ({
  make: (config) => Effect.map(Layer.build(layerOf(config)), (context) => Context.get(context, HttpClient.HttpClient))
})

/**
 * Clients on `fetch` (browsers, Deno, Bun, workers): `keep-alive` only, no
 * per-client proxy or CA (see `FetchBoshHttpClient`).
 *
 * @since 0.1.0
 */
export const layerFetch: Layer.Layer<BoshHttpClients> = Layer.succeed(BoshHttpClients)(
  fromLayer(FetchBoshHttpClient.layer)
)
