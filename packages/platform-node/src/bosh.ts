/**
 * `@xmpp-core/platform-node/bosh`: BOSH's HTTP on undici, for apps that
 * build their own BOSH clients or dispatchers. Apart from the package's index
 * so that importing the index does not load undici: `NodeXmppClient` loads
 * this stack on the first BOSH session only, and a process that speaks only
 * TCP never loads it.
 *
 * @since 0.1.0
 */
export * as NodeBoshHttpClient from "./http/NodeBoshHttpClient.js"
export * as BoshHttpRoute from "./http/BoshHttpRoute.js"
export * as BoshHttpInterceptor from "./http/BoshHttpInterceptor.js"
export * as BoshUndiciClient from "./http/BoshUndiciClient.js"
export * as BoshConnections from "./http/BoshConnections.js"
