/**
 * Runs the pure negotiation machine of `@xmpp-core/protocol` against a
 * transport: performs its actions (send, STARTTLS, restart, SCRAM crypto),
 * feeds it the transport's events, and steps it with a `Tick` at its
 * deadline, reading time from `Clock` (so `TestClock` drives it in tests).
 *
 * @since 0.1.0
 */
import { ChannelBinding, Element, Negotiation, type XmlStreamEvent } from "@xmpp-core/protocol"
import { Clock, Effect, Option } from "effect"
import { SaslCrypto } from "../sasl/SaslCrypto.js"

/**
 * What negotiation needs from a transport (TCP stream or BOSH session);
 * `Transport` is this port plus what the bound session needs.
 *
 * @since 0.1.0
 */
export interface Port<E> {
  /** The next event from the server, in order; interruptible without losing one. */
  readonly receive: Effect.Effect<XmlStreamEvent.XmlStreamEvent, E>
  /** Sends one top-level element; elements go out in the order `send` was called. */
  readonly send: (element: Element.Element) => Effect.Effect<void, E>
  /** TCP: writes a stream header (text from the negotiation machine). BOSH: never called. */
  readonly sendStreamHeader: (xml: string) => Effect.Effect<void, E>
  /** TCP: upgrades the connection after `<proceed/>` and reports the channel binding data. */
  readonly startTls: Effect.Effect<ChannelBinding.TlsChannel, E>
  /** TCP: starts a new XML document (new parser). BOSH: sends the `xmpp:restart='true'` body. */
  readonly restart: Effect.Effect<void, E>
}

/**
 * The machine's configuration; the SCRAM client nonce is drawn from
 * {@link SaslCrypto} when not given.
 *
 * @since 0.1.0
 */
export type Options = Omit<Negotiation.Config, "clientNonce"> & { readonly clientNonce?: string | undefined }

/**
 * Negotiates until the stream is bound, or fails with the machine's typed
 * error (or the transport's).
 *
 * @since 0.1.0
 */
export const negotiate = Effect.fnUntraced(function*<E>(port: Port<E>, options: Options) {
  const crypto = yield* SaslCrypto
  const clientNonce = options.clientNonce ?? (yield* crypto.clientNonce)
  let stepped = Negotiation.make({ ...options, clientNonce }, yield* Clock.currentTimeMillis)
  while (true) {
    // An action can produce the next event (TLS established, SCRAM
    // computed); it is fed straight back instead of waiting on the transport.
    let event: Negotiation.Event | undefined
    for (const action of stepped.actions) {
      switch (action._tag) {
        case "Send":
          yield* port.send(action.element)
          break
        case "SendStreamHeader":
          yield* port.sendStreamHeader(action.xml)
          break
        case "StartTls":
          event = Negotiation.tlsEstablished(yield* port.startTls)
          break
        case "RestartStream":
          yield* port.restart
          break
        case "ComputeScram":
          event = Negotiation.scramComputed(yield* crypto.computeScram(action.request))
          break
        case "Bound":
          return action
        case "Failed":
          return yield* Effect.fail(action.error)
      }
    }
    if (event === undefined) {
      const deadline = Negotiation.nextDeadline(stepped.state) ?? 0
      const wait = Math.max(0, deadline - (yield* Clock.currentTimeMillis))
      event = Option.getOrElse(yield* Effect.timeoutOption(port.receive, wait), () => Negotiation.tick)
    }
    stepped = Negotiation.step(stepped.state, event, yield* Clock.currentTimeMillis)
  }
})
