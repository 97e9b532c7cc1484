/**
 * Channel binding data (RFC 5056) that SCRAM-*-PLUS binds the login to.
 * The type lives in `@xmpp-core/protocol` (the SASL mechanisms consume it);
 * the TLS port re-exports it here so that network code needs no SASL import.
 *
 * @since 0.1.0
 */
import type { ChannelBinding as Protocol } from "@xmpp-core/protocol"

/** @since 0.1.0 */
export type ChannelBindingType = Protocol.ChannelBindingType

/** @since 0.1.0 */
export type ChannelBinding = Protocol.ChannelBinding
