/**
 * @xmpp-core/client: Effect services that drive the pure machines of
 * @xmpp-core/protocol against ports (Connector, TLS upgrade, HttpClient,
 * Clock, secure random).
 *
 * @since 0.1.0
 */

export * as BoshConnection from "./bosh/BoshConnection.js"
