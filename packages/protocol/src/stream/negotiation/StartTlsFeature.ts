/**
 * STARTTLS (RFC 6120 §5) as a stream feature: on an unencrypted TCP stream
 * that offers it, ask for TLS, wait for `<proceed/>`, let the transport
 * upgrade, and restart the stream. Also the policy when nothing encrypts
 * the stream: refuse unless the user allowed plaintext.
 *
 * @since 0.1.0
 */
import * as Element from "../../xml/Element.js"
import * as Namespaces from "../../xml/Namespaces.js"
import {
  type Context,
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
 * The states STARTTLS waits in.
 *
 * @since 0.1.0
 */
export type State =
  | { readonly _tag: "AwaitingTlsProceed"; readonly context: Context; readonly deadline: number }
  | { readonly _tag: "AwaitingTlsEstablished"; readonly context: Context; readonly deadline: number }

/**
 * What to do with `features` before authenticating: ask for STARTTLS, or
 * fail because the stream would stay unencrypted; `undefined` when the
 * stream is encrypted already or plaintext is allowed and no STARTTLS is
 * offered (offered STARTTLS is taken even then). Over BOSH there is no
 * STARTTLS, whatever the server advertises.
 *
 * @since 0.1.0
 */
export const make = (context: Context, features: Element.Element, now: number): Step<StreamState | State> | undefined => {
  if (context.secure) return undefined
  const config = context.config
  if (config.transport === "tcp" && Element.child(features, "starttls", Namespaces.TLS) !== undefined) {
    return {
      state: { _tag: "AwaitingTlsProceed", context, deadline: now + responseTimeout(context) },
      actions: [send(Element.make("starttls", { namespace: Namespaces.TLS }))]
    }
  }
  if (config.allowPlaintext === true) return undefined
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

const onAnswer = (
  state: Extract<State, { _tag: "AwaitingTlsProceed" }>,
  element: Element.Element,
  now: number
): Step<StreamState | State> => {
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

/**
 * Advances STARTTLS by one event.
 *
 * @since 0.1.0
 */
export const step = (state: State, event: Event, now: number): Step<StreamState | State> => {
  switch (state._tag) {
    case "AwaitingTlsProceed":
      return event._tag === "StreamElement" ? onAnswer(state, event.element, now) : unexpected(event)
    case "AwaitingTlsEstablished":
      if (event._tag !== "TlsEstablished") return unexpected(event)
      return Opening.open({ ...state.context, secure: true, tls: event.channelBinding }, now, true)
  }
}
