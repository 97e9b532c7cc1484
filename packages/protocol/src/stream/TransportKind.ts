/**
 * Which transport carries an XMPP stream: the one name the negotiation
 * machine and the client's transports share.
 *
 * @since 0.1.0
 */

/**
 * `tcp`: RFC 6120 over a TCP connection (STARTTLS or direct TLS). `bosh`:
 * XEP-0124 with XEP-0206 over HTTP. The kind decides whether a stream header
 * is written (TCP only), whether STARTTLS exists (TCP only; over BOSH an
 * advertised `<starttls><required/></starttls>` is ignored, as Prosody
 * advertises it there) and what a restart means to the transport.
 *
 * @since 0.1.0
 */
export type TransportKind = "tcp" | "bosh"
