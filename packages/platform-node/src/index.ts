/**
 * @xmpp-core/platform-node: the only package that touches `node:*`; one
 * Layer per choice of socket, TLS and HTTP.
 *
 * @since 0.1.0
 */
export * as NodeTcp from "./net/NodeTcp.js"
export * as NodeTls from "./net/NodeTls.js"
export * as NodeProxyHandshake from "./net/NodeProxyHandshake.js"
export * as NodeConnector from "./net/NodeConnector.js"
export * as NodeServerLookup from "./net/NodeServerLookup.js"
export * as NodeXmppClient from "./client/NodeXmppClient.js"
export * as NodeBoshHttpClient from "./http/NodeBoshHttpClient.js"
export * as BoshHttpRoute from "./http/BoshHttpRoute.js"
export * as BoshHttpInterceptor from "./http/BoshHttpInterceptor.js"
export * as BoshUndiciClient from "./http/BoshUndiciClient.js"
