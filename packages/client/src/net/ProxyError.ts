/**
 * Failure of a proxy to open the tunnel.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { ProxyHandshakeReason } from "@xmpp-core/protocol"
import type { Hop } from "./Route.js"

/**
 * The reasons of the pure handshakes (`AuthRequired`, `Refused`, `BadResponse`, the SOCKS5 reply codes…).
 *
 * @since 0.1.0
 */
export type ProxyErrorReason = ProxyHandshakeReason

/**
 * @since 0.1.0
 */
export class ProxyError extends Data.TaggedError("ProxyError")<{
  readonly reason: ProxyErrorReason
  readonly message: string
  readonly hop: Hop
  /** The HTTP status of the proxy's answer, when there was one. */
  readonly status?: number | undefined
  /** The SOCKS5 reply byte, when there was one. */
  readonly replyCode?: number | undefined
}> {}
