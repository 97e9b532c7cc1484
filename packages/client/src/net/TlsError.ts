/**
 * Failure to establish TLS.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { Hop } from "./Route.js"

/**
 * - `CertificateInvalid`: the chain does not lead to a trusted CA, or a certificate is expired or malformed.
 * - `HostnameMismatch`: the certificate is valid but not for the name we asked for.
 * - `HandshakeFailed`: the peer does not speak TLS, or the handshake broke off (alert, garbage, close).
 * - `TimedOut`: the handshake did not finish within the timeout.
 * - `Unsupported`: the connection cannot be upgraded by this platform's TLS port.
 *
 * @since 0.1.0
 */
export type TlsErrorReason = "CertificateInvalid" | "HostnameMismatch" | "HandshakeFailed" | "TimedOut" | "Unsupported"

/**
 * @since 0.1.0
 */
export class TlsError extends Data.TaggedError("TlsError")<{
  readonly reason: TlsErrorReason
  readonly message: string
  readonly hop: Hop
  readonly cause?: unknown
}> {}
