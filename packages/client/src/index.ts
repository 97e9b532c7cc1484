/**
 * @xmpp-core/client: Effect services that drive the pure machines of
 * @xmpp-core/protocol against ports (Connector, TLS upgrade, HttpClient,
 * Clock, secure random).
 *
 * @since 0.1.0
 */

export * as BoshHttpConfig from "./http/BoshHttpConfig.js"
export * from "./http/BoshHttpConfigError.js"
export * as BoshHttpExchange from "./http/BoshHttpExchange.js"
export * as FetchBoshHttpClient from "./http/FetchBoshHttpClient.js"
export * from "./http/HttpError.js"
export * as ReasonPhrase from "./http/ReasonPhrase.js"
