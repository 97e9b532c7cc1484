/**
 * The end of an XMPP stream over TCP (RFC 6120 §4.4): the closing tag of
 * the `<stream:stream>` root, written as text since the root is never a
 * whole element.
 *
 * @since 0.1.0
 */

/**
 * `</stream:stream>`: after it, nothing more may be written on the stream.
 *
 * @since 0.1.0
 */
export const xml = "</stream:stream>"
