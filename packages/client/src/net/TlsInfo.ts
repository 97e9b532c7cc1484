/**
 * What a TLS connection tells the layers above it: the negotiated version and
 * ALPN protocol, and the channel bindings SASL can bind to.
 *
 * @since 0.1.0
 */
import type * as Option from "effect/Option"
import type { ChannelBinding, ChannelBindingType } from "./ChannelBinding.js"

/**
 * @since 0.1.0
 */
export interface TlsInfo {
  /** The negotiated protocol version, as Node and OpenSSL spell it (`TLSv1.3`, `TLSv1.2`). */
  readonly tlsVersion: string
  /** The ALPN protocol the server selected, if any. */
  readonly alpnProtocol: Option.Option<string>
  /**
   * The channel binding of a type, or `None` when this connection cannot
   * provide it: `tls-unique` exists only below TLS 1.3, `tls-exporter` is
   * offered only on TLS 1.3 (RFC 9266 §3 forbids it on 1.2 without the
   * extended master secret, which the platform does not report).
   */
  readonly channelBinding: (type: ChannelBindingType) => Option.Option<ChannelBinding>
  /**
   * Every binding this connection offers (the same data as `channelBinding`).
   * With `tlsVersion`, this makes a `TlsInfo` usable wherever SASL expects
   * its `TlsChannel` (`{ tlsVersion, bindings }`).
   */
  readonly bindings: ReadonlyArray<ChannelBinding>
}
