/**
 * @xmpp-core/protocol: the pure, I/O-free core. No Node built-ins, no clock,
 * no timers, no randomness: time and random bytes come in as inputs.
 *
 * @since 0.1.0
 */
export * as Element from "./xml/Element.js"
export * as XmlSerializer from "./xml/XmlSerializer.js"
export * from "./xml/XmlError.js"
export * as XmlStreamEvent from "./xml/XmlStreamEvent.js"
export * as Namespaces from "./xml/Namespaces.js"
export * as ProxyHandshake from "./proxy/Handshake.js"
export * from "./proxy/ProxyHandshakeError.js"
export * as HttpConnect from "./proxy/HttpConnect.js"
export * as Socks5 from "./proxy/Socks5.js"
export * as ChannelBinding from "./sasl/ChannelBinding.js"
export * as SaslPrep from "./sasl/SaslPrep.js"
export * as SaslFailure from "./sasl/SaslFailure.js"
export * from "./sasl/SaslMechanismError.js"
export * as Scram from "./sasl/Scram.js"
export * as SaslMechanism from "./sasl/SaslMechanism.js"
export * from "./stream/NegotiationError.js"
export * as StreamError from "./stream/StreamError.js"
export * as StreamHeader from "./stream/StreamHeader.js"
export * as Negotiation from "./stream/Negotiation.js"
export * as XmlLimits from "./xml/XmlLimits.js"
export * as XmlStreamParser from "./xml/XmlStreamParser.js"
export * as BodyParser from "./xml/BodyParser.js"
export * as Jid from "./jid/Jid.js"
export * from "./jid/JidError.js"
