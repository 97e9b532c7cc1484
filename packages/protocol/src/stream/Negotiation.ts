/**
 * Stream negotiation as a pure machine (RFC 6120 §4–§7): from "connected" to
 * "bound", over a TCP stream or BOSH, through STARTTLS, SASL, stream restart,
 * resource binding and the old RFC 3921 session.
 *
 * `(state, event, now) → (state, actions)`: events are XML stream events plus
 * what the transport and the crypto report back; actions tell the caller what
 * to send or do. Time is only ever an input; {@link nextDeadline} says when the
 * caller must step the machine with a `Tick` if nothing else arrives.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import * as Base64 from "effect/encoding/Base64"
import type * as ChannelBinding from "../sasl/ChannelBinding.js"
import * as ChannelBindingChoice from "../sasl/ChannelBindingChoice.js"
import * as SaslFailure from "../sasl/SaslFailure.js"
import * as SaslMechanism from "../sasl/SaslMechanism.js"
import { SaslMechanismError } from "../sasl/SaslMechanismError.js"
import type * as Scram from "../sasl/Scram.js"
import * as Jid from "../jid/Jid.js"
import * as Element from "../xml/Element.js"
import * as Namespaces from "../xml/Namespaces.js"
import type { XmlStreamEvent } from "../xml/XmlStreamEvent.js"
import { NegotiationError, type Setting } from "./NegotiationError.js"
import * as StreamError from "./StreamError.js"
import * as StreamHeader from "./StreamHeader.js"
import type { TransportKind } from "./TransportKind.js"

/** XEP-0440: the channel binding types a server advertises. @since 0.1.0 */
export const SASL_CHANNEL_BINDING = ChannelBindingChoice.NAMESPACE

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

// ---------------------------------------------------------------------------
// States
// ---------------------------------------------------------------------------

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
 * The machine's states, each named for what it waits for.
 *
 * @since 0.1.0
 */
export type State =
  | { readonly _tag: "AwaitingStreamHeader"; readonly context: Context; readonly deadline: number }
  | { readonly _tag: "AwaitingFeatures"; readonly context: Context; readonly deadline: number }
  | { readonly _tag: "AwaitingTlsProceed"; readonly context: Context; readonly deadline: number }
  | { readonly _tag: "AwaitingTlsEstablished"; readonly context: Context; readonly deadline: number }
  | {
    readonly _tag: "AwaitingSaslResult"
    readonly context: Context
    readonly deadline: number
    readonly session: SaslMechanism.Session
  }
  | {
    readonly _tag: "AwaitingScramComputation"
    readonly context: Context
    readonly deadline: number
    readonly session: SaslMechanism.Session
  }
  | {
    readonly _tag: "AwaitingBindResult"
    readonly context: Context
    readonly deadline: number
    readonly authenticated: Authenticated
    readonly features: Element.Element
  }
  | {
    readonly _tag: "AwaitingSessionResult"
    readonly context: Context
    readonly deadline: number
    readonly authenticated: Authenticated
    readonly features: Element.Element
    readonly jid: Jid.Jid
  }
  | { readonly _tag: "Bound"; readonly jid: Jid.Jid }
  | { readonly _tag: "Failed"; readonly error: Error }

/**
 * One step's outcome.
 *
 * @since 0.1.0
 */
export interface Step {
  readonly state: State
  readonly actions: ReadonlyArray<Action>
}

const BIND_ID = "bind_1"
const SESSION_ID = "session_1"

const featuresTimeout = (context: Context) => context.config.featuresTimeout ?? 30_000
const responseTimeout = (context: Context) => context.config.responseTimeout ?? 30_000

const send = (element: Element.Element): Send => ({ _tag: "Send", element })

const fail = (error: Error, actions: ReadonlyArray<Action> = []): Step => ({
  state: { _tag: "Failed", error },
  actions: [...actions, { _tag: "Failed", error }]
})

const negotiationError = (
  reason: NegotiationError["reason"],
  message: string,
  condition?: string,
  settings?: ReadonlyArray<Setting>
) => new NegotiationError({ reason, message, condition, settings })

// A new stream: on TCP the client writes a header; on BOSH the transport
// sends the restart body (or, at the start, the session request) and the
// machine only waits.
// RFC 6120 §4.7.1: once the stream is encrypted, the client names its
// account in the header's `from` (never before: that would leak it).
const accountAddress = (context: Context): string | undefined => {
  const credentials = context.config.credentials
  if (!context.secure || credentials._tag !== "Password") return undefined
  const account = Jid.make({ local: credentials.username, domain: context.config.domain })
  return Result.isSuccess(account) ? Jid.format(account.success) : undefined
}

const openStream = (context: Context, now: number, restart: boolean): Step => {
  const actions: Array<Action> = []
  if (restart) actions.push({ _tag: "RestartStream" })
  if (context.config.transport === "tcp") {
    const header = StreamHeader.make({
      domain: context.config.domain,
      lang: context.config.lang,
      from: accountAddress(context)
    })
    actions.push({ _tag: "SendStreamHeader", header, xml: StreamHeader.toXml(header) })
  }
  return { state: { _tag: "AwaitingStreamHeader", context, deadline: now + featuresTimeout(context) }, actions }
}

/**
 * The first state and actions for a freshly connected transport.
 *
 * @since 0.1.0
 */
export const make = (config: Config, now: number): Step =>
  openStream(
    {
      config,
      secure: config.tls !== undefined || config.secure === true,
      tls: config.tls,
      authenticated: undefined
    },
    now,
    false
  )

/**
 * When the caller must step the machine with a `Tick` at the latest, or
 * `undefined` once it is done.
 *
 * @since 0.1.0
 */
export const nextDeadline = (state: State): number | undefined =>
  state._tag === "Bound" || state._tag === "Failed" ? undefined : state.deadline

/** Whether negotiation is over, bound or failed. @since 0.1.0 */
export const isDone = (state: State): boolean => state._tag === "Bound" || state._tag === "Failed"

// ---------------------------------------------------------------------------
// The step
// ---------------------------------------------------------------------------

/**
 * Advances the machine by one event at time `now` (milliseconds, any epoch).
 *
 * @since 0.1.0
 */
export const step = (state: State, event: Event, now: number): Step => {
  if (state._tag === "Bound" || state._tag === "Failed") return { state, actions: [] }
  if (now >= state.deadline) {
    const waitingForFeatures = state._tag === "AwaitingStreamHeader" || state._tag === "AwaitingFeatures"
    return fail(
      negotiationError(
        waitingForFeatures ? "features-timeout" : "response-timeout",
        waitingForFeatures
          ? "the server sent no stream features in time"
          : `the server did not answer in time (${state._tag})`
      )
    )
  }
  switch (event._tag) {
    case "Tick":
      return { state, actions: [] }
    case "StreamClose":
      return fail(negotiationError("stream-closed", "the server closed the stream during negotiation"))
    case "StreamElement":
      if (StreamError.isStreamError(event.element)) return fail(StreamError.fromElement(event.element))
      break
  }
  switch (state._tag) {
    case "AwaitingStreamHeader":
      return onStreamHeader(state, event, now)
    case "AwaitingFeatures":
      return event._tag === "StreamElement" ? onFeatures(state.context, event.element, now) : unexpected(event)
    case "AwaitingTlsProceed":
      return event._tag === "StreamElement" ? onTlsAnswer(state, event.element, now) : unexpected(event)
    case "AwaitingTlsEstablished":
      if (event._tag !== "TlsEstablished") return unexpected(event)
      return openStream({ ...state.context, secure: true, tls: event.channelBinding }, now, true)
    case "AwaitingSaslResult":
      return event._tag === "StreamElement" ? onSaslAnswer(state, event.element, now) : unexpected(event)
    case "AwaitingScramComputation": {
      if (event._tag !== "ScramComputed") return unexpected(event)
      return onMechanismStep(
        state.context,
        state.session,
        SaslMechanism.step(state.session, { _tag: "Computed", computed: event.computed }),
        now
      )
    }
    case "AwaitingBindResult":
      return event._tag === "StreamElement" ? onBindResult(state, event.element, now) : unexpected(event)
    case "AwaitingSessionResult":
      return event._tag === "StreamElement" ? onSessionResult(state, event.element) : unexpected(event)
  }
}

const describe = (event: Event): string =>
  event._tag === "StreamElement" ? `<${event.element.name} xmlns='${event.element.namespace}'>` : event._tag

const unexpected = (event: Event): Step =>
  fail(negotiationError("unexpected-element", `unexpected ${describe(event)} during stream negotiation`))

const isFeatures = (element: Element.Element) =>
  element.name === "features" && element.namespace === Namespaces.STREAMS

const onStreamHeader = (
  state: Extract<State, { _tag: "AwaitingStreamHeader" }>,
  event: Event,
  now: number
): Step => {
  const { context } = state
  if (event._tag === "StreamOpen") {
    // Over BOSH the header is synthesized from a <body/>: nothing to check.
    if (context.config.transport === "tcp") {
      const checked = StreamHeader.check(event.header, context.config.domain)
      if (checked instanceof NegotiationError) return fail(checked)
    }
    return { state: { _tag: "AwaitingFeatures", context, deadline: state.deadline }, actions: [] }
  }
  // A BOSH transport may hand over the features of a restart without a header.
  if (context.config.transport === "bosh" && event._tag === "StreamElement" && isFeatures(event.element)) {
    return onFeatures(context, event.element, now)
  }
  return unexpected(event)
}

const onFeatures = (context: Context, features: Element.Element, now: number): Step => {
  if (!isFeatures(features)) {
    return fail(negotiationError("unexpected-element", `expected <stream:features/>, got <${features.name}/>`))
  }
  const config = context.config
  if (context.authenticated !== undefined) return bind(context, context.authenticated, features, now)
  if (!context.secure) {
    if (config.transport === "tcp" && Element.child(features, "starttls", Namespaces.TLS) !== undefined) {
      return {
        state: { _tag: "AwaitingTlsProceed", context, deadline: now + responseTimeout(context) },
        actions: [send(Element.make("starttls", { namespace: Namespaces.TLS }))]
      }
    }
    if (config.allowPlaintext !== true) {
      return fail(
        config.transport === "tcp"
          ? negotiationError(
            "starttls-not-offered",
            "the server does not offer STARTTLS and plaintext is not allowed (setting allowPlaintext)",
            undefined,
            ["allowPlaintext"]
          )
          : negotiationError(
            "plaintext-not-allowed",
            "BOSH over unencrypted HTTP and plaintext is not allowed (setting allowPlaintext; or use an https:// URL)",
            undefined,
            ["allowPlaintext"]
          )
      )
    }
  }
  const mechanisms = Element.child(features, "mechanisms", Namespaces.SASL)
  if (mechanisms === undefined) {
    return fail(negotiationError("sasl-not-offered", "the server offers no SASL mechanisms"))
  }
  const offered = Element.elements(mechanisms, "mechanism", Namespaces.SASL).map((m) => Element.text(m).trim())
  const { refusals, selection } = SaslMechanism.evaluate({
    offered,
    allowed: config.mechanisms,
    credentials: config.credentials,
    tls: context.tls,
    channelBinding: config.channelBinding,
    secure: context.secure,
    allowPlainWithoutTls: config.allowPlainWithoutTls === true,
    serverBindingTypes: ChannelBindingChoice.advertisedTypes(features)
  })
  if (selection === undefined) return fail(noAcceptableMechanism(offered, refusals, config.credentials))
  const started = SaslMechanism.start(selection, config.credentials, {
    clientNonce: config.clientNonce,
    minIterations: config.minIterations,
    maxIterations: config.maxIterations,
    cachedKeys: config.cachedKeys
  })
  if (Result.isFailure(started)) return fail(started.failure)
  const { initialResponse, session } = started.success
  // With `y`, why: a binding was possible but no -PLUS offered, or no type the server takes.
  const choice = selection.channelBinding
  const bindingDeclined = selection.scramBinding._tag !== "ServerDoesNotSupport"
    ? undefined
    : choice._tag === "Bind"
    ? "the server offers no -PLUS mechanism"
    : choice.reason
  const saslContext: Context = { ...context, bindingDeclined }
  // RFC 6120 §6.4.2: an empty initial response is written as "=".
  const payload = initialResponse.length === 0 ? "=" : Base64.encode(initialResponse)
  return {
    state: { _tag: "AwaitingSaslResult", context: saslContext, deadline: now + responseTimeout(context), session },
    actions: [
      send(Element.make("auth", {
        namespace: Namespaces.SASL,
        attributes: { mechanism: selection.name },
        children: [payload]
      }))
    ]
  }
}

const onTlsAnswer = (
  state: Extract<State, { _tag: "AwaitingTlsProceed" }>,
  element: Element.Element,
  now: number
): Step => {
  if (element.namespace === Namespaces.TLS && element.name === "proceed") {
    return {
      state: { _tag: "AwaitingTlsEstablished", context: state.context, deadline: now + responseTimeout(state.context) },
      actions: [{ _tag: "StartTls" }]
    }
  }
  if (element.namespace === Namespaces.TLS && element.name === "failure") {
    return fail(negotiationError("tls-failed", "the server refused STARTTLS"))
  }
  return fail(negotiationError("unexpected-element", `expected <proceed/>, got <${element.name}/>`))
}

// SASL payloads are base64; RFC 6120 §6.4.2 writes an empty one as "=" (and
// some servers send an empty element).
const decodePayload = (element: Element.Element): Uint8Array | undefined => {
  const text = Element.text(element).trim()
  if (text === "" || text === "=") return new Uint8Array(0)
  const decoded = Base64.decode(text)
  return Result.isSuccess(decoded) ? decoded.success : undefined
}

const abort = () => send(Element.make("abort", { namespace: Namespaces.SASL }))

// Why no offered mechanism is usable, and which settings would allow one.
const noAcceptableMechanism = (
  offered: ReadonlyArray<string>,
  refusals: ReadonlyArray<SaslMechanism.Refusal>,
  credentials: SaslMechanism.Credentials
): NegotiationError =>
  negotiationError(
    "no-acceptable-mechanism",
    `no usable SASL mechanism among those offered (${offered.join(", ") || "none"})` +
      SaslMechanism.describeRefusals(offered, refusals, credentials),
    undefined,
    [...new Set(refusals.flatMap(({ setting }) => (setting === undefined ? [] : [setting])))]
  )

// A refusal of a `y` login that says the server binds is a possible downgrade.
const withDowngradeCheck = (
  failure: SaslFailure.SaslFailure,
  context: Context,
  session: SaslMechanism.Session
): Error => {
  const declined = context.bindingDeclined
  const answersClientFirst = session._tag === "Scram" && session.scram._tag === "AwaitingServerFirst"
  const refusal = { _tag: "Failure", condition: failure.reason, text: failure.text, answersClientFirst } as const
  if (declined === undefined || !ChannelBindingChoice.suspectsDowngrade(refusal)) return failure
  const serverWord = `${failure.reason}${failure.text === undefined ? "" : `: ${failure.text}`}`
  return ChannelBindingChoice.downgradeError(failure.mechanism, declined, serverWord)
}

const withScramDowngradeCheck = (error: SaslMechanismError, context: Context): SaslMechanismError => {
  const declined = context.bindingDeclined
  const refusal = { _tag: "ScramServerError", serverError: error.serverError } as const
  if (declined === undefined || error.reason !== "server-error" || !ChannelBindingChoice.suspectsDowngrade(refusal)) {
    return error
  }
  return ChannelBindingChoice.downgradeError(error.mechanism, declined, `e=${error.serverError ?? ""}`)
}

const onSaslAnswer = (
  state: Extract<State, { _tag: "AwaitingSaslResult" }>,
  element: Element.Element,
  now: number
): Step => {
  const { context, session } = state
  if (element.namespace !== Namespaces.SASL) {
    return fail(negotiationError("unexpected-element", `unexpected <${element.name}/> during SASL`), [abort()])
  }
  if (element.name === "failure") return fail(withDowngradeCheck(SaslFailure.fromElement(element, session.name), context, session))
  if (element.name !== "challenge" && element.name !== "success") {
    return fail(negotiationError("unexpected-element", `unexpected <${element.name}/> during SASL`), [abort()])
  }
  const data = decodePayload(element)
  if (data === undefined) {
    const error = new SaslMechanismError({
      reason: "malformed-challenge",
      message: `the server's <${element.name}/> is not base64`,
      mechanism: session.name
    })
    return fail(error, element.name === "challenge" ? [abort()] : [])
  }
  const input: SaslMechanism.Input = element.name === "challenge"
    ? { _tag: "Challenge", data }
    : { _tag: "Success", data: data.length === 0 ? undefined : data }
  const stepped = SaslMechanism.step(session, input)
  const result: SaslMechanism.Step = stepped._tag === "Failed"
    ? { _tag: "Failed", error: withScramDowngradeCheck(stepped.error, context) }
    : stepped
  // After <success/> the server considers the exchange over: no <abort/>.
  if (result._tag === "Failed" && element.name === "success") return fail(result.error)
  return onMechanismStep(context, session, result, now)
}

const onMechanismStep = (
  context: Context,
  session: SaslMechanism.Session,
  result: SaslMechanism.Step,
  now: number
): Step => {
  switch (result._tag) {
    case "Failed":
      return fail(result.error, [abort()])
    case "Compute":
      return {
        state: {
          _tag: "AwaitingScramComputation",
          context,
          deadline: now + responseTimeout(context),
          session: result.session
        },
        actions: [{ _tag: "ComputeScram", request: result.request }]
      }
    case "Respond":
      return {
        state: {
          _tag: "AwaitingSaslResult",
          context,
          deadline: now + responseTimeout(context),
          session: result.session
        },
        actions: [
          send(Element.make("response", {
            namespace: Namespaces.SASL,
            children: [result.response.length === 0 ? undefined : Base64.encode(result.response)]
          }))
        ]
      }
    case "Authenticated":
      return openStream(
        { ...context, authenticated: { mechanism: session.name, keys: result.keys } },
        now,
        true
      )
  }
}

const bind = (context: Context, authenticated: Authenticated, features: Element.Element, now: number): Step => {
  if (Element.child(features, "bind", Namespaces.BIND) === undefined) {
    return fail(negotiationError("bind-not-offered", "the server offers no resource binding"))
  }
  const resource = context.config.resource
  const request = Element.make("iq", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { type: "set", id: BIND_ID },
    children: [
      Element.make("bind", {
        namespace: Namespaces.BIND,
        children: [
          resource === undefined || resource === ""
            ? undefined
            : Element.make("resource", { namespace: Namespaces.BIND, children: [resource] })
        ]
      })
    ]
  })
  return {
    state: { _tag: "AwaitingBindResult", context, deadline: now + responseTimeout(context), authenticated, features },
    actions: [send(request)]
  }
}

// The condition of a stanza <error/>, e.g. "conflict" or "not-allowed".
const stanzaErrorCondition = (iq: Element.Element): string => {
  const error = Element.child(iq, "error")
  const condition = error === undefined
    ? undefined
    : Element.elements(error).find((child) => child.namespace === Namespaces.STANZAS && child.name !== "text")
  return condition?.name ?? "undefined-condition"
}

const isIqAnswer = (element: Element.Element, id: string) =>
  element.name === "iq" && Element.attribute(element, "id") === id

const onBindResult = (
  state: Extract<State, { _tag: "AwaitingBindResult" }>,
  element: Element.Element,
  now: number
): Step => {
  if (!isIqAnswer(element, BIND_ID)) {
    return fail(negotiationError("unexpected-element", `expected the bind result, got <${element.name}/>`))
  }
  const type = Element.attribute(element, "type")
  if (type === "error") {
    const condition = stanzaErrorCondition(element)
    return fail(negotiationError("bind-failed", `resource binding failed: ${condition}`, condition))
  }
  const bindResult = Element.child(element, "bind", Namespaces.BIND)
  const jidElement = bindResult === undefined ? undefined : Element.child(bindResult, "jid", Namespaces.BIND)
  const jidText = jidElement === undefined ? "" : Element.text(jidElement).trim()
  if (type !== "result" || jidText === "") {
    return fail(negotiationError("bind-failed", "the bind result carries no JID", "undefined-condition"))
  }
  const parsed = Jid.parse(jidText)
  if (Result.isFailure(parsed) || parsed.success.resource === undefined) {
    return fail(negotiationError(
      "bind-failed",
      `the server bound ${JSON.stringify(jidText)}, which is not a full JID`,
      "undefined-condition"
    ))
  }
  const jid = parsed.success
  const session = Element.child(state.features, "session", Namespaces.SESSION)
  if (session !== undefined && Element.child(session, "optional", Namespaces.SESSION) === undefined) {
    const request = Element.make("iq", {
      namespace: Namespaces.JABBER_CLIENT,
      attributes: { type: "set", id: SESSION_ID },
      children: [Element.make("session", { namespace: Namespaces.SESSION })]
    })
    return {
      state: {
        _tag: "AwaitingSessionResult",
        context: state.context,
        deadline: now + responseTimeout(state.context),
        authenticated: state.authenticated,
        features: state.features,
        jid
      },
      actions: [send(request)]
    }
  }
  return bound(state.authenticated, state.features, jid)
}

const bound = (authenticated: Authenticated, features: Element.Element, jid: Jid.Jid): Step => ({
  state: { _tag: "Bound", jid },
  actions: [{ _tag: "Bound", jid, features, mechanism: authenticated.mechanism, scramKeys: authenticated.keys }]
})

const onSessionResult = (
  state: Extract<State, { _tag: "AwaitingSessionResult" }>,
  element: Element.Element
): Step => {
  if (!isIqAnswer(element, SESSION_ID)) {
    return fail(negotiationError("unexpected-element", `expected the session result, got <${element.name}/>`))
  }
  if (Element.attribute(element, "type") !== "result") {
    const condition = stanzaErrorCondition(element)
    return fail(negotiationError("session-failed", `session establishment failed: ${condition}`, condition))
  }
  return bound(state.authenticated, state.features, state.jid)
}
