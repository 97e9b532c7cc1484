/**
 * @xmpp-core/client: Effect services that drive the pure machines of
 * @xmpp-core/protocol against ports (Connector, TLS upgrade, HttpClient,
 * Clock, secure random).
 *
 * @since 0.1.0
 */
export * as Route from "./net/Route.js"
export * as ClientCertificate from "./net/ClientCertificate.js"
export * from "./net/ConnectError.js"
export * from "./net/TlsError.js"
export * from "./net/ProxyError.js"
export * as ChannelBinding from "./net/ChannelBinding.js"
export * as TlsInfo from "./net/TlsInfo.js"
export * as Connection from "./net/Connection.js"
export * as Connector from "./net/Connector.js"
export * as TlsUpgrade from "./net/TlsUpgrade.js"
export * as SrvOrder from "./net/SrvOrder.js"
export * as ServerLookup from "./net/ServerLookup.js"
export * as SaslCrypto from "./sasl/SaslCrypto.js"
export * as StreamNegotiator from "./sasl/StreamNegotiator.js"
export * as SaslSettings from "./sasl/SaslSettings.js"
export * from "./transport/TransportError.js"
export * as Transport from "./transport/Transport.js"
export * as Traffic from "./transport/Traffic.js"
export * as StreamTransport from "./transport/StreamTransport.js"
export * from "./XmppClientError.js"
export * as XmppClientConfig from "./XmppClientConfig.js"
export * as XmppClient from "./XmppClient.js"
export * as BoshHttpConfig from "./http/BoshHttpConfig.js"
export * from "./http/BoshHttpConfigError.js"
export * as BoshHttpExchange from "./http/BoshHttpExchange.js"
export * as FetchBoshHttpClient from "./http/FetchBoshHttpClient.js"
export * from "./http/HttpError.js"
export * as ReasonPhrase from "./http/ReasonPhrase.js"
export * as BoshHttpTracing from "./http/BoshHttpTracing.js"
export * as BoshConnection from "./bosh/BoshConnection.js"
export * as BoshHttpClients from "./http/BoshHttpClients.js"
export * as BoshTransport from "./transport/BoshTransport.js"
