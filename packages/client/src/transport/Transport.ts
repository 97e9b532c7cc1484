/**
 * The port between `XmppClient` and a transport. A transport carries XML
 * elements and stream events between the client and the server and never
 * interprets stanzas; TCP (RFC 6120) and BOSH (XEP-0124/0206) both fit it.
 * It is what stream negotiation needs (`StreamNegotiator.Port`) plus what
 * the bound session needs: how secure the channel is and how to close.
 *
 * @since 0.1.0
 */
import type { ChannelBinding, Element, XmlStreamEvent } from "@xmpp-core/protocol"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { TransportError } from "./TransportError.js"

/**
 * Which transport this is; decides what negotiation asks of it.
 *
 * @since 0.1.0
 */
export type Kind = "tcp" | "bosh"

/**
 * @since 0.1.0
 */
export interface Transport {
  readonly kind: Kind
  /**
   * Whether the channel is encrypted from the start: direct TLS, or BOSH
   * over HTTPS. A STARTTLS stream starts `false` and is upgraded by `startTls`.
   */
  readonly secure: boolean
  /** The TLS channel to bind SASL to when the connection is TLS from the start (direct TLS). */
  readonly channel: Option.Option<ChannelBinding.TlsChannel>
  /**
   * The next event from the server, in order. Interruptible without losing
   * one. After the server's `StreamClose` was received, fails with `Closed`.
   */
  readonly receive: Effect.Effect<XmlStreamEvent.XmlStreamEvent, TransportError>
  /** Sends one top-level element; elements go out in the order `send` was called. */
  readonly send: (element: Element.Element) => Effect.Effect<void, TransportError>
  /** TCP: writes a stream header (text from the negotiation machine). BOSH: never called. */
  readonly sendStreamHeader: (xml: string) => Effect.Effect<void, TransportError>
  /** TCP: upgrades the connection after `<proceed/>` and reports the channel binding data. */
  readonly startTls: Effect.Effect<ChannelBinding.TlsChannel, TransportError>
  /** TCP: starts a new XML document (new parser). BOSH: sends the `xmpp:restart='true'` body. */
  readonly restart: Effect.Effect<void, TransportError>
  /**
   * Ends the stream cleanly after delivering `lastElements`. TCP writes
   * them, then `</stream:stream>`, and waits briefly for the server's
   * close; BOSH sends them in its terminate body. Succeeds when the server
   * confirmed (so everything sent before arrived), fails with
   * `CloseUnconfirmed` otherwise. Closing twice is a no-op.
   */
  readonly close: (lastElements?: ReadonlyArray<Element.Element>) => Effect.Effect<void, TransportError>
}
