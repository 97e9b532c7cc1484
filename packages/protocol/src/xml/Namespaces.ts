/**
 * Namespace names used across the protocol, spelled once.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export const JABBER_CLIENT = "jabber:client"
/** @since 0.1.0 */
export const STREAMS = "http://etherx.jabber.org/streams"
/** @since 0.1.0 */
export const STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
/** @since 0.1.0 */
export const TLS = "urn:ietf:params:xml:ns:xmpp-tls"
/** @since 0.1.0 */
export const SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
/** @since 0.1.0 */
export const BIND = "urn:ietf:params:xml:ns:xmpp-bind"
/** @since 0.1.0 */
export const SESSION = "urn:ietf:params:xml:ns:xmpp-session"
/** @since 0.1.0 */
export const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
/** @since 0.1.0 */
export const HTTP_BIND = "http://jabber.org/protocol/httpbind"
/** @since 0.1.0 */
export const XBOSH = "urn:xmpp:xbosh"
/** @since 0.1.0 */
export const XML = "http://www.w3.org/XML/1998/namespace"
/** XEP-0198 stream management. @since 0.1.0 */
export const STREAM_MANAGEMENT = "urn:xmpp:sm:3"
