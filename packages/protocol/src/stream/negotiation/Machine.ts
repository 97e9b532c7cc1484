/**
 * The vocabulary stream negotiation's core and its features share: the
 * configuration, the events the machine takes and the actions it asks for,
 * the context every waiting state carries, the states of the stream itself
 * (waiting for a header or features, bound, failed) and the `Step` a step
 * returns, with the small helpers every feature uses to fail or send.
 *
 * Public through `Negotiation` (`Negotiation.Config`, `Negotiation.Event`…).
 *
 * @since 0.1.0
 */
import type * as ChannelBinding from "../../sasl/ChannelBinding.js"
import type * as SaslFailure from "../../sasl/SaslFailure.js"
import type * as SaslMechanism from "../../sasl/SaslMechanism.js"
import type { SaslMechanismError } from "../../sasl/SaslMechanismError.js"
import type * as Scram from "../../sasl/Scram.js"
import type * as Jid from "../../jid/Jid.js"
import type * as Element from "../../xml/Element.js"
import type { XmlStreamEvent } from "../../xml/XmlStreamEvent.js"
import { NegotiationError, type Setting } from "../NegotiationError.js"
import type * as StreamError from "../StreamError.js"
import type { TransportKind } from "../TransportKind.js"

/**
 * @since 0.1.0
 */
export interface Config {
  readonly transport: TransportKind
  /** The XMPP domain, the header's `to`. */
  readonly domain: string
  readonly lang?: string | undefined
  readonly credentials: SaslMechanism.Credentials
  /** The resource to ask for; the server picks one when absent. */
  readonly resource?: string | undefined
  /** Restricts the mechanisms (default: all the client speaks). */
  readonly mechanisms?: ReadonlyArray<SaslMechanism.Name> | undefined
  /** Allow authenticating on an unencrypted stream (default false). */
  readonly allowPlaintext?: boolean | undefined
  /** Allow PLAIN on an unencrypted stream (default false, needs `allowPlaintext` too). */
  readonly allowPlainWithoutTls?: boolean | undefined
  /**
   * The stream is already encrypted when negotiation starts: direct TLS
   * (with its channel for binding) or BOSH over HTTPS (`secure: true`, no
   * binding: the HTTP connections change under the session).
   */
  readonly tls?: ChannelBinding.TlsChannel | undefined
  readonly secure?: boolean | undefined
  /**
   * Use channel binding (-PLUS) when possible (default true); the type comes
   * from `ChannelBindingChoice`. Off sends the `n` flag and no -PLUS.
   */
  readonly channelBinding?: boolean | undefined
  /** SCRAM client nonce: printable ASCII from a secure random source. */
  readonly clientNonce: string
  readonly minIterations?: number | undefined
  readonly maxIterations?: number | undefined
  /** SCRAM keys from an earlier login, to skip PBKDF2 when the salt matches. */
  readonly cachedKeys?: Scram.Keys | undefined
  /** How long to wait for a stream header and features (ms, default 30 s). */
  readonly featuresTimeout?: number | undefined
  /** How long to wait for any other answer (ms, default 30 s). */
  readonly responseTimeout?: number | undefined
  /**
   * Resume a stream-management session instead of binding a new one, when
   * the server offers stream management (XEP-0198 §5): `request` is the
   * `<resume/>` the stream-management machine wrote, `jid` the session's.
   */
  readonly resume?: { readonly request: Element.Element; readonly jid: Jid.Jid } | undefined
}

/**
 * Everything negotiation can fail with.
 *
 * @since 0.1.0
 */
export type Error = NegotiationError | StreamError.StreamError | SaslFailure.SaslFailure | SaslMechanismError

// ---------------------------------------------------------------------------
// Events and actions
// ---------------------------------------------------------------------------

/**
 * The transport finished the TLS upgrade asked for by {@link StartTls}.
 *
 * @since 0.1.0
 */
export interface TlsEstablished {
  readonly _tag: "TlsEstablished"
  readonly channelBinding: ChannelBinding.TlsChannel
}

/**
 * The result of a {@link ComputeScram} request.
 *
 * @since 0.1.0
 */
export interface ScramComputed {
  readonly _tag: "ScramComputed"
  readonly computed: Scram.Computed
}

/**
 * Nothing happened but time passed: lets the machine notice a deadline.
 *
 * @since 0.1.0
 */
export interface Tick {
  readonly _tag: "Tick"
}

/**
 * @since 0.1.0
 */
export type Event = XmlStreamEvent | TlsEstablished | ScramComputed | Tick

/** @since 0.1.0 */
export const tlsEstablished = (channelBinding: ChannelBinding.TlsChannel): TlsEstablished => ({
  _tag: "TlsEstablished",
  channelBinding
})
/** @since 0.1.0 */
export const scramComputed = (computed: Scram.Computed): ScramComputed => ({ _tag: "ScramComputed", computed })
/** @since 0.1.0 */
export const tick: Tick = { _tag: "Tick" }

/**
 * Send one top-level element on the stream.
 *
 * @since 0.1.0
 */
export interface Send {
  readonly _tag: "Send"
  readonly element: Element.Element
}

/**
 * Write a stream header (TCP only). `xml` is the header as text, ready to
 * write, with the XML declaration and the `jabber:client` default namespace.
 *
 * @since 0.1.0
 */
export interface SendStreamHeader {
  readonly _tag: "SendStreamHeader"
  readonly header: Element.Element
  readonly xml: string
}

/**
 * Upgrade the connection to TLS (TCP only), then report {@link TlsEstablished}.
 *
 * @since 0.1.0
 */
export interface StartTls {
  readonly _tag: "StartTls"
}

/**
 * Restart the stream: on TCP reset the parser (a {@link SendStreamHeader}
 * follows); on BOSH send the `xmpp:restart='true'` body.
 *
 * @since 0.1.0
 */
export interface RestartStream {
  readonly _tag: "RestartStream"
}

/**
 * Run the SCRAM crypto (PBKDF2, HMAC) and report {@link ScramComputed}.
 *
 * @since 0.1.0
 */
export interface ComputeScram {
  readonly _tag: "ComputeScram"
  readonly request: Scram.ComputeRequest
}

/**
 * Negotiation is done: the stream is authenticated and bound.
 *
 * @since 0.1.0
 */
export interface Bound {
  readonly _tag: "Bound"
  /** The full JID the server bound. */
  readonly jid: Jid.Jid
  /** The features of the last restart, for what comes next (stream management…). */
  readonly features: Element.Element
  readonly mechanism: SaslMechanism.Name
  /** SCRAM keys to keep for the next login; undefined for other mechanisms. */
  readonly scramKeys: Scram.Keys | undefined
  /**
   * The server's answer to the `<resume/>` of `Config.resume`: `<resumed/>`
   * (the session goes on; `jid` is its JID) or `<failed/>` (a new session
   * was bound). Absent when no resumption was tried.
   */
  readonly resumption?: Element.Element | undefined
}

/**
 * Negotiation failed; the caller closes the transport.
 *
 * @since 0.1.0
 */
export interface Failed {
  readonly _tag: "Failed"
  readonly error: Error
}

/**
 * @since 0.1.0
 */
export type Action = Send | SendStreamHeader | StartTls | RestartStream | ComputeScram | Bound | Failed

/**
 * What every waiting state carries along.
 *
 * @since 0.1.0
 */
export interface Context {
  readonly config: Config
  /** Whether the stream is encrypted now. */
  readonly secure: boolean
  /** The TLS channel, when there is one to bind to. */
  readonly tls: ChannelBinding.TlsChannel | undefined
  /** The mechanism that authenticated, once one has. */
  readonly authenticated: Authenticated | undefined
  /**
   * Why the SASL attempt in progress says `y` (it could bind but saw no way
   * the server takes); set only then, so a refusal can be told apart as a
   * possible downgrade.
   */
  readonly bindingDeclined?: string | undefined
}

/**
 * How the client authenticated.
 *
 * @since 0.1.0
 */
export interface Authenticated {
  readonly mechanism: SaslMechanism.Name
  readonly keys: Scram.Keys | undefined
}

/**
 * The states of the stream itself; each feature (`StartTlsFeature`,
 * `SaslFeature`, `BindFeature`) adds the states it waits in.
 *
 * @since 0.1.0
 */
export type StreamState =
  | { readonly _tag: "AwaitingStreamHeader"; readonly context: Context; readonly deadline: number }
  | { readonly _tag: "AwaitingFeatures"; readonly context: Context; readonly deadline: number }
  | { readonly _tag: "Bound"; readonly jid: Jid.Jid }
  | { readonly _tag: "Failed"; readonly error: Error }

/**
 * One step's outcome: the next state and what the caller must do.
 *
 * @since 0.1.0
 */
export interface Step<S> {
  readonly state: S
  readonly actions: ReadonlyArray<Action>
}

/** How long to wait for a stream header and features (ms). @since 0.1.0 */
export const featuresTimeout = (context: Context): number => context.config.featuresTimeout ?? 30_000

/** How long to wait for any other answer (ms). @since 0.1.0 */
export const responseTimeout = (context: Context): number => context.config.responseTimeout ?? 30_000

/** Sends one element. @since 0.1.0 */
export const send = (element: Element.Element): Send => ({ _tag: "Send", element })

/**
 * Ends negotiation with `error`, after `actions` (an `<abort/>`…).
 *
 * @since 0.1.0
 */
export const fail = (error: Error, actions: ReadonlyArray<Action> = []): Step<StreamState> => ({
  state: { _tag: "Failed", error },
  actions: [...actions, { _tag: "Failed", error }]
})

/** A `NegotiationError`. @since 0.1.0 */
export const negotiationError = (
  reason: NegotiationError["reason"],
  message: string,
  condition?: string,
  settings?: ReadonlyArray<Setting>
): NegotiationError => new NegotiationError({ reason, message, condition, settings })

const describe = (event: Event): string =>
  event._tag === "StreamElement" ? `<${event.element.name} xmlns='${event.element.namespace}'>` : event._tag

/**
 * Fails on an event that has no place at this step.
 *
 * @since 0.1.0
 */
export const unexpected = (event: Event): Step<StreamState> =>
  fail(negotiationError("unexpected-element", `unexpected ${describe(event)} during stream negotiation`))
