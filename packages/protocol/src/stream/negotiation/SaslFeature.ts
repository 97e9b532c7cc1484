/**
 * SASL (RFC 6120 §6) as a stream feature: choose the strongest offered
 * mechanism the user allows and the client can use safely (channel binding
 * per `ChannelBindingChoice`), run it through challenges and the SCRAM
 * crypto the caller computes, tell a refused `y` login apart as a possible
 * downgrade, and restart the stream once authenticated.
 *
 * A new mechanism goes in `sasl/SaslMechanism.ts` (and its own file there);
 * this feature only moves its payloads. SASL2 (XEP-0388) would be a feature
 * file of its own beside this one.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import * as Base64 from "effect/encoding/Base64"
import * as ChannelBindingChoice from "../../sasl/ChannelBindingChoice.js"
import * as SaslFailure from "../../sasl/SaslFailure.js"
import * as SaslMechanism from "../../sasl/SaslMechanism.js"
import { SaslMechanismError } from "../../sasl/SaslMechanismError.js"
import * as Element from "../../xml/Element.js"
import * as Namespaces from "../../xml/Namespaces.js"
import type { NegotiationError } from "../NegotiationError.js"
import {
  type Context,
  type Error,
  type Event,
  fail,
  negotiationError,
  responseTimeout,
  send,
  type Step,
  type StreamState,
  unexpected
} from "./Machine.js"
import * as Opening from "./Opening.js"

/**
 * The states SASL waits in: the server's answer, or the caller's SCRAM crypto.
 *
 * @since 0.1.0
 */
export type State =
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

/**
 * Starts authenticating with the mechanisms `features` offer: `<auth/>`
 * with the chosen mechanism's initial response, or a failure that says why
 * none is usable.
 *
 * @since 0.1.0
 */
export const make = (context: Context, features: Element.Element, now: number): Step<StreamState | State> => {
  const config = context.config
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

const onAnswer = (
  state: Extract<State, { _tag: "AwaitingSaslResult" }>,
  element: Element.Element,
  now: number
): Step<StreamState | State> => {
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
): Step<StreamState | State> => {
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
      return Opening.open(
        { ...context, authenticated: { mechanism: session.name, keys: result.keys } },
        now,
        true
      )
  }
}

/**
 * Advances SASL by one event.
 *
 * @since 0.1.0
 */
export const step = (state: State, event: Event, now: number): Step<StreamState | State> => {
  switch (state._tag) {
    case "AwaitingSaslResult":
      return event._tag === "StreamElement" ? onAnswer(state, event.element, now) : unexpected(event)
    case "AwaitingScramComputation":
      if (event._tag !== "ScramComputed") return unexpected(event)
      return onMechanismStep(
        state.context,
        state.session,
        SaslMechanism.step(state.session, { _tag: "Computed", computed: event.computed }),
        now
      )
  }
}
