/**
 * The one error of the pure proxy handshakes (HTTP CONNECT, SOCKS5).
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * Why a proxy did not open the tunnel.
 *
 * - `AuthRequired`: HTTP 407 Proxy Authentication Required (RFC 9110 §15.5.8), or a 401 to a CONNECT
 *   (the proxy is the only party that can send it; tinyproxy does for wrong credentials).
 * - `Refused`: the HTTP proxy answered CONNECT with a status outside 2xx other than 407 (`status` says which).
 * - `BadResponse`: the proxy's bytes are not a valid response for the protocol (or exceed the header bound).
 * - `InvalidRequest`: the caller's own input cannot be sent safely (a host with control characters,
 *   a user name with `:` for Basic, a SOCKS5 field longer than 255 bytes, a port out of range).
 * - `NoAcceptableMethods`: SOCKS5 method selection answered X'FF' (RFC 1928 §3).
 * - `AuthFailed`: SOCKS5 username/password sub-negotiation status not zero (RFC 1929 §2).
 * - SOCKS5 reply codes of RFC 1928 §6, X'01' to X'08', and `UnassignedReplyCode` for X'09' to X'FF'
 *   (`replyCode` carries the byte).
 *
 * @since 0.1.0
 */
export type ProxyHandshakeReason =
  | "AuthRequired"
  | "Refused"
  | "BadResponse"
  | "InvalidRequest"
  | "NoAcceptableMethods"
  | "AuthFailed"
  | "GeneralFailure"
  | "ConnectionNotAllowed"
  | "NetworkUnreachable"
  | "HostUnreachable"
  | "ConnectionRefused"
  | "TtlExpired"
  | "CommandNotSupported"
  | "AddressTypeNotSupported"
  | "UnassignedReplyCode"

/**
 * @since 0.1.0
 */
export class ProxyHandshakeError extends Data.TaggedError("ProxyHandshakeError")<{
  readonly reason: ProxyHandshakeReason
  readonly message: string
  /** The HTTP status of the proxy's answer, when there was one. */
  readonly status?: number | undefined
  /** The SOCKS5 reply byte, when there was one. */
  readonly replyCode?: number | undefined
}> {}
