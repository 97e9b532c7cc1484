/**
 * Channel binding data (RFC 5056) that SCRAM-*-PLUS binds the login to.
 *
 * The SASL work defines the same structural type in
 * `@xmpp-core/protocol` (`sasl/ChannelBinding.ts`); this local copy keeps the
 * TLS port independent until the two are unified.
 *
 * @since 0.1.0
 */

/**
 * - `tls-exporter` (RFC 9266): 32 bytes exported with the label "EXPORTER-Channel-Binding", no context.
 * - `tls-server-end-point` (RFC 5929 §4): the hash of the server's certificate.
 * - `tls-unique` (RFC 5929 §3): the first Finished message of the handshake; TLS 1.2 only.
 *
 * @since 0.1.0
 */
export type ChannelBindingType = "tls-exporter" | "tls-server-end-point" | "tls-unique"

/**
 * @since 0.1.0
 */
export interface ChannelBinding {
  readonly type: ChannelBindingType
  readonly data: Uint8Array
}
