/**
 * The one error of every transport (TCP stream, BOSH session).
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * - `ConnectFailed`: no connection could be opened (every endpoint tried);
 *   `cause` is the last `ConnectError` or `ProxyError`.
 * - `NoEndpoint`: the domain has no client endpoint to try (its SRV records
 *   decline the service).
 * - `TlsFailed`: the TLS handshake (direct or STARTTLS) failed; `cause` is the `TlsError`.
 * - `InvalidXml`: the server sent bytes that are not acceptable XML; `cause`
 *   is the `XmlError` (RFC 6120 §4.9.3.13 `not-well-formed`, §4.9.3.18 `restricted-xml`, limits).
 * - `ConnectionLost`: the connection ended (closed, reset, read error)
 *   without the server closing its stream first.
 * - `StreamError`: the server ended the stream with `<stream:error/>`
 *   (over BOSH, relayed by the connection manager); `condition` is its
 *   RFC 6120 §4.9.3 condition and `cause` the protocol's `StreamError`.
 * - `WriteFailed`: bytes could not be written; what was being sent may not
 *   have reached the server.
 * - `Closed`: the transport was already closed (by us or the server) when
 *   asked to send or receive.
 * - `CloseUnconfirmed`: on `close`, the server did not close its side in
 *   time, so delivery of the last elements is not confirmed.
 * - `Unsupported`: an operation this transport does not have (STARTTLS on
 *   an encrypted stream or over BOSH).
 *
 * @since 0.1.0
 */
export type TransportErrorReason =
  | "ConnectFailed"
  | "NoEndpoint"
  | "TlsFailed"
  | "InvalidXml"
  | "ConnectionLost"
  | "StreamError"
  | "WriteFailed"
  | "Closed"
  | "CloseUnconfirmed"
  | "Unsupported"

/**
 * @since 0.1.0
 */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly reason: TransportErrorReason
  readonly message: string
  /**
   * The protocol's own name for what happened, when it has one: over BOSH the
   * `BoshError` reason (`item-not-found`, `remote-stream-error`,
   * `see-other-uri`, `connection-manager-unreachable`…).
   */
  readonly condition?: string | undefined
  /** The underlying `ConnectError`, `ProxyError`, `TlsError`, `XmlError`, `BoshError` or socket error. */
  readonly cause?: unknown
}> {}
