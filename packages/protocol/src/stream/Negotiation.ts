/**
 * Stream negotiation as a pure machine (RFC 6120 §4–§7): from "connected" to
 * "bound", over a TCP stream or BOSH, through STARTTLS, SASL, stream restart,
 * resource binding and the old RFC 3921 session.
 *
 * `make(config, now) → Step`, `step(state, event, now) → Step` with
 * `Step = { state, actions }`: events are XML stream events plus what the
 * transport and the crypto report back; actions tell the caller what to
 * send or do. Time is only ever an input; {@link nextDeadline} says when
 * the caller must step the machine with a `Tick` if nothing else arrives.
 *
 * This module is the small core: it opens the stream, checks the header,
 * and hands each set of `<stream:features/>` to the features in order —
 * `StartTlsFeature`, `SaslFeature`, then (after the restart) `ResumeFeature`
 * when a stream-management session is to be resumed, else `BindFeature`
 * — each in its own file under `negotiation/`, with the vocabulary they
 * share in `negotiation/Machine.ts`.
 *
 * @since 0.1.0
 */
import * as ChannelBindingChoice from "../sasl/ChannelBindingChoice.js"
import * as Element from "../xml/Element.js"
import * as Namespaces from "../xml/Namespaces.js"
import * as BindFeature from "./negotiation/BindFeature.js"
import {
  type Config,
  type Context,
  type Event,
  fail,
  negotiationError,
  type Step as MachineStep,
  type StreamState,
  unexpected
} from "./negotiation/Machine.js"
import * as Opening from "./negotiation/Opening.js"
import * as ResumeFeature from "./negotiation/ResumeFeature.js"
import * as SaslFeature from "./negotiation/SaslFeature.js"
import * as StartTlsFeature from "./negotiation/StartTlsFeature.js"
import { NegotiationError } from "./NegotiationError.js"
import * as StreamError from "./StreamError.js"
import * as StreamHeader from "./StreamHeader.js"

export type {
  Action,
  Authenticated,
  Bound,
  ComputeScram,
  Config,
  Context,
  Error,
  Event,
  Failed,
  RestartStream,
  ScramComputed,
  Send,
  SendStreamHeader,
  StartTls,
  Tick,
  TlsEstablished
} from "./negotiation/Machine.js"
export { scramComputed, tick, tlsEstablished } from "./negotiation/Machine.js"

/** XEP-0440: the channel binding types a server advertises. @since 0.1.0 */
export const SASL_CHANNEL_BINDING = ChannelBindingChoice.NAMESPACE

/**
 * The machine's states, each named for what it waits for: the stream's own
 * and those of each feature.
 *
 * @since 0.1.0
 */
export type State = StreamState | StartTlsFeature.State | SaslFeature.State | ResumeFeature.State | BindFeature.State

/**
 * One step's outcome.
 *
 * @since 0.1.0
 */
export type Step = MachineStep<State>

/**
 * The first state and actions for a freshly connected transport.
 *
 * @since 0.1.0
 */
export const make = (config: Config, now: number): Step =>
  Opening.open(
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
    case "AwaitingTlsEstablished":
      return StartTlsFeature.step(state, event, now)
    case "AwaitingSaslResult":
    case "AwaitingScramComputation":
      return SaslFeature.step(state, event, now)
    case "AwaitingResumeResult":
      return ResumeFeature.step(state, event, now)
    case "AwaitingBindResult":
    case "AwaitingSessionResult":
      return BindFeature.step(state, event, now)
  }
}

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

// The features, in order: once authenticated (after the restart SASL asks
// for), bind; before, STARTTLS when the stream is not encrypted yet (or the
// refusal to go on without it), then SASL.
const onFeatures = (context: Context, features: Element.Element, now: number): Step => {
  if (!isFeatures(features)) {
    return fail(negotiationError("unexpected-element", `expected <stream:features/>, got <${features.name}/>`))
  }
  if (context.authenticated !== undefined) {
    return ResumeFeature.make(context, context.authenticated, features, now) ??
      BindFeature.make(context, context.authenticated, features, now)
  }
  return StartTlsFeature.make(context, features, now) ?? SaslFeature.make(context, features, now)
}
