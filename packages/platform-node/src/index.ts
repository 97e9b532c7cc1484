/**
 * @xmpp-core/platform-node: the only package that touches `node:*`; one
 * Layer per choice of socket, TLS and HTTP.
 *
 * @since 0.1.0
 */

export * as NodeBoshHttpClient from "./http/NodeBoshHttpClient.js"
export * as BoshHttpRoute from "./http/BoshHttpRoute.js"
export * as BoshHttpInterceptor from "./http/BoshHttpInterceptor.js"
