/**
 * @xmpp-core/platform-node: the only package that touches `node:*`; one
 * Layer per choice of socket, TLS and HTTP.
 *
 * @since 0.1.0
 */
export {}
