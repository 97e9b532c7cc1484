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
