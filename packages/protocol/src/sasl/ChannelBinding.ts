/**
 * Channel binding data, produced by the TLS port and consumed by the -PLUS
 * SCRAM mechanisms. The protocol never computes it: it only decides which
 * type to use and puts the bytes into the SCRAM `c=` attribute.
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

/**
 * Picks the binding to use.
 *
 * - TLS 1.3: `tls-exporter` (RFC 9266); `tls-server-end-point` only when the
 *   exporter is unavailable and the server lists end-point. Never `tls-unique`,
 *   which RFC 9266 forbids on TLS 1.3.
 * - TLS 1.2 with a server list (XEP-0440): `tls-server-end-point` if listed,
 *   otherwise `tls-unique` if that is all the server takes.
 * - TLS 1.2 without a list: `tls-unique`, RFC 5802's default type. Measured:
 *   Prosody 0.12 and ejabberd 23.01 advertise no list and accept only
 *   `tls-unique` (they refuse `tls-server-end-point`).
 *
 * `serverTypes` is the XEP-0440 list from the stream features, `undefined`
 * when the server sends none; a type the server's list omits is never chosen.
 *
 * @since 0.1.0
 */
export const select = (
  channel: TlsChannel,
  serverTypes: ReadonlyArray<ChannelBindingType> | undefined
): ChannelBinding | undefined => {
  const available = (type: ChannelBindingType): ChannelBinding | undefined => {
    if (serverTypes !== undefined && !serverTypes.includes(type)) return undefined
    return channel.bindings.find((binding) => binding.type === type && binding.data.length > 0)
  }
  if (channel.tlsVersion === "TLSv1.3") {
    return available("tls-exporter") ?? (serverTypes !== undefined ? available("tls-server-end-point") : undefined)
  }
  if (serverTypes === undefined) return available("tls-unique")
  return available("tls-server-end-point") ?? available("tls-unique")
}
