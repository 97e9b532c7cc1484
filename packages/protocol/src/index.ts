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
export * as XmlLimits from "./xml/XmlLimits.js"
export * as XmlStreamParser from "./xml/XmlStreamParser.js"
export * as BodyParser from "./xml/BodyParser.js"
export * as Jid from "./jid/Jid.js"
export * from "./jid/JidError.js"
export * as BoshSession from "./bosh/BoshSession.js"
export * as BoshSessionParameters from "./bosh/SessionParameters.js"
export * as BoshKeyChain from "./bosh/KeyChain.js"
export * as Sha1 from "./bosh/Sha1.js"
export * from "./bosh/BoshError.js"
export * as BoshSimulatedConnectionManager from "./bosh/SimulatedConnectionManager.js"
export * as BoshOptions from "./bosh/BoshOptions.js"
