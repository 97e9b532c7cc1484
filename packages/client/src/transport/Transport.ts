/**
 * The port between `XmppClient` and a transport. A transport carries XML
 * elements and stream events between the client and the server and never
 * interprets stanzas; TCP (RFC 6120) and BOSH (XEP-0124/0206) both fit it.
 * It is what stream negotiation needs (`StreamNegotiator.Port`) plus what
 * the bound session needs: which kind it is, how secure the channel is and
 * how to close.
 *
 * @since 0.1.0
 */
import type { ChannelBinding, Element, TransportKind } from "@xmpp-core/protocol"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as StreamNegotiator from "../stream/StreamNegotiator.js"
import type { TransportError } from "./TransportError.js"

/**
 * The negotiation port with `TransportError`, plus the rest. `receive`
 * fails with `Closed` once the server's `StreamClose` was received.
 *
 * @since 0.1.0
 */
export interface Transport extends StreamNegotiator.Port<TransportError> {
  /** Which transport this is; decides what negotiation asks of it. */
  readonly kind: TransportKind
  /**
   * Whether the channel is encrypted from the start: direct TLS, or BOSH
   * over HTTPS. A STARTTLS stream starts `false` and is upgraded by `startTls`.
   */
  readonly secure: boolean
  /** The TLS channel to bind SASL to when the connection is TLS from the start (direct TLS). */
  readonly channel: Option.Option<ChannelBinding.TlsChannel>
  /**
   * Ends the stream cleanly after delivering `lastElements`. TCP writes
   * them, then `</stream:stream>`, and waits briefly for the server's
   * close; BOSH sends them in its terminate body. Succeeds when the server
   * confirmed (so everything sent before arrived), fails with
   * `CloseUnconfirmed` otherwise. Closing twice is a no-op.
   */
  readonly close: (lastElements?: ReadonlyArray<Element.Element>) => Effect.Effect<void, TransportError>
  /**
   * Sends `elements` together, in order, as `send` would one by one: one
   * write over TCP, one request body over BOSH (so a stanza and the `<r/>`
   * after it never make two requests written back to back).
   */
  readonly sendAll: (elements: ReadonlyArray<Element.Element>) => Effect.Effect<void, TransportError>
  /**
   * The transport's own acknowledgement of what `send` took, where it has
   * one: BOSH knows the connection manager received a request once it
   * answered it (XEP-0124 §9). TCP has none (`undefined`): only stream
   * management (XEP-0198) can tell there.
   */
  readonly receipts: Receipts | undefined
}

/**
 * Acknowledgements by the transport itself (see `Transport.receipts`).
 *
 * @since 0.1.0
 */
export interface Receipts {
  /**
   * Sends `element` like `send`; the effect returned succeeds once the peer
   * acknowledged it, or fails with the error that ended the transport first.
   */
  readonly sendTracked: (element: Element.Element) => Effect.Effect<Effect.Effect<void, TransportError>, TransportError>
  /**
   * What `send` took and the peer did not acknowledge, oldest first; once
   * the transport failed, what the peer may never have received.
   */
  readonly unacknowledged: Effect.Effect<ReadonlyArray<Element.Element>>
}
