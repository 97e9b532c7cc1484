/**
 * The one error of `XmppClient`.
 *
 * @since 0.1.0
 */
import type { Element } from "@xmpp-core/protocol"
import { Data } from "effect"

/**
 * - `InvalidConfig`: the configuration cannot be used (e.g. the JID).
 * - `TransportUnavailable`: the runtime cannot carry the configured transport as asked
 *   (e.g. a BOSH proxy, CA or HTTP mode that fetch cannot do, or a SOCKS5 proxy for BOSH);
 *   `cause` is the `BoshHttpConfigError` when there is one.
 * - `ConnectFailed`: the transport failed before the stream was bound
 *   (connect, proxy, TLS, the connection lost); `cause` is the `TransportError`.
 * - `AuthenticationFailed`: SASL failed; `condition` is the RFC 6120 §6.5
 *   condition (`not-authorized`…) or the client's SCRAM check
 *   (`invalid-server-signature`…); `cause` is the `SaslFailure`/`SaslMechanismError`.
 * - `NegotiationFailed`: stream negotiation failed otherwise; `condition` is
 *   the `NegotiationError` reason (`starttls-not-offered`, `bind-failed`…).
 * - `StreamError`: the server ended the stream with `<stream:error/>`;
 *   `condition` is its RFC 6120 §4.9.3 condition.
 * - `ConnectionLost`: the transport failed after the stream was bound.
 * - `UnexpectedElement`: the server sent a top-level element that is not a stanza.
 * - `InvalidStanza`: `send` was given something that is not a valid stanza
 *   (`cause` is the `XmlError` for invalid XML).
 * - `Closed`: the client was closed (or the server closed the stream) before the call.
 * - `CloseUnconfirmed`: `close` did not see the server close its stream, so
 *   the delivery of what was sent last is not confirmed.
 * - `NotAcknowledged`: `sendAcknowledged`'s stanza may not have reached the
 *   server: the session ended (or was replaced) before it acknowledged it.
 * - `StreamManagementUnavailable`: acknowledgements over TCP need XEP-0198
 *   stream management, which this session does not have (not configured,
 *   or not offered by the server). BOSH has receipts of its own.
 * - `IqError`: an `iq` was answered with `type='error'`; `condition` is the
 *   stanza error condition (RFC 6120 §8.3.3), `stanza` the answer.
 * - `Timeout`: no answer in time (an `iq`).
 * - `QueueFull`: `streamManagement.maxUnacked` stanzas wait for the server's
 *   acknowledgement and none was made room for within `ackTimeout` (a send
 *   that finds the queue full waits for room until then: back-pressure).
 *
 * With stream management, an error that ends the session lists in
 * `unacknowledged` the stanzas the caller handed over that the server never
 * acknowledged, in order: nothing is lost without the caller being told.
 *
 * @since 0.1.0
 */
export type XmppClientErrorReason =
  | "InvalidConfig"
  | "TransportUnavailable"
  | "ConnectFailed"
  | "AuthenticationFailed"
  | "NegotiationFailed"
  | "StreamError"
  | "ConnectionLost"
  | "UnexpectedElement"
  | "InvalidStanza"
  | "Closed"
  | "CloseUnconfirmed"
  | "NotAcknowledged"
  | "StreamManagementUnavailable"
  | "QueueFull"
  | "IqError"
  | "Timeout"

/**
 * @since 0.1.0
 */
export class XmppClientError extends Data.TaggedError("XmppClientError")<{
  readonly reason: XmppClientErrorReason
  readonly message: string
  /** The protocol condition, when the failure has one (SASL, stream error, negotiation reason). */
  readonly condition?: string | undefined
  readonly cause?: unknown
  /** The stanza that carried the failure (the `iq` error answer). */
  readonly stanza?: Element.Element | undefined
  /** Stanzas handed over and never acknowledged, oldest first (stream management only). */
  readonly unacknowledged?: ReadonlyArray<Element.Element> | undefined
}> {}
