/**
 * Channel binding data, produced by the TLS port and consumed by the -PLUS
 * SCRAM mechanisms. The protocol never computes it: it decides which type to
 * use (`ChannelBindingChoice`) and puts the bytes into the SCRAM `c=` attribute.
 *
 * @since 0.1.0
 */

/**
 * The channel binding types XMPP uses: RFC 9266 (`tls-exporter`, TLS 1.3),
 * RFC 5929 (`tls-server-end-point`, `tls-unique` for TLS ≤ 1.2).
 *
 * @since 0.1.0
 */
export type ChannelBindingType = "tls-exporter" | "tls-server-end-point" | "tls-unique"

/**
 * One channel binding value for the current TLS connection.
 *
 * @since 0.1.0
 */
export interface ChannelBinding {
  readonly type: ChannelBindingType
  readonly data: Uint8Array
}

/**
 * What the TLS port reports once a connection is encrypted: the negotiated
 * protocol version (as Node and OpenSSL spell it: `"TLSv1.3"`, `"TLSv1.2"`)
 * and every binding it could compute for this connection.
 *
 * @since 0.1.0
 */
export interface TlsChannel {
  readonly tlsVersion: string
  readonly bindings: ReadonlyArray<ChannelBinding>
}

/** @since 0.1.0 */
export const make = (type: ChannelBindingType, data: Uint8Array): ChannelBinding => ({ type, data })

/** @since 0.1.0 */
export const isChannelBindingType = (value: string): value is ChannelBindingType =>
  value === "tls-exporter" || value === "tls-server-end-point" || value === "tls-unique"
