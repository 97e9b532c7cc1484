/**
 * Resource binding (RFC 6120 §7) as a stream feature, with the old RFC 3921
 * session after it when the server requires one (not `<optional/>`). Its
 * end is the end of negotiation: `Bound` with the JID the server bound.
 *
 * Resuming a stream-management session comes in its place
 * (`ResumeFeature`); when that fails, binding follows and the `Bound`
 * action carries the server's `<failed/>`.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import * as Jid from "../../jid/Jid.js"
import * as StanzaError from "../../stanza/StanzaError.js"
import * as Element from "../../xml/Element.js"
import * as Namespaces from "../../xml/Namespaces.js"
import {
  type Authenticated,
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

/**
 * The states binding waits in: the bind result, then the session result.
 *
 * @since 0.1.0
 */
export type State =
  | {
    readonly _tag: "AwaitingBindResult"
    readonly context: Context
    readonly deadline: number
    readonly authenticated: Authenticated
    readonly features: Element.Element
    readonly resumption: Element.Element | undefined
  }
  | {
    readonly _tag: "AwaitingSessionResult"
    readonly context: Context
    readonly deadline: number
    readonly authenticated: Authenticated
    readonly features: Element.Element
    readonly resumption: Element.Element | undefined
    readonly jid: Jid.Jid
  }

const BIND_ID = "bind_1"
const SESSION_ID = "session_1"

/**
 * Binds a resource on the authenticated stream whose (restarted) `features`
 * offer binding: the configured resource, or one the server picks.
 *
 * @since 0.1.0
 */
export const make = (
  context: Context,
  authenticated: Authenticated,
  features: Element.Element,
  now: number,
  resumption?: Element.Element
): Step<StreamState | State> => {
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
    state: {
      _tag: "AwaitingBindResult",
      context,
      deadline: now + responseTimeout(context),
      authenticated,
      features,
      resumption
    },
    actions: [send(request)]
  }
}

const isIqAnswer = (element: Element.Element, id: string) =>
  element.name === "iq" && Element.attribute(element, "id") === id

const onBindAnswer = (
  state: Extract<State, { _tag: "AwaitingBindResult" }>,
  element: Element.Element,
  now: number
): Step<StreamState | State> => {
  if (!isIqAnswer(element, BIND_ID)) {
    return fail(negotiationError("unexpected-element", `expected the bind result, got <${element.name}/>`))
  }
  const type = Element.attribute(element, "type")
  if (type === "error") {
    const condition = StanzaError.condition(element)
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
        resumption: state.resumption,
        jid
      },
      actions: [send(request)]
    }
  }
  return bound(state, jid)
}

const bound = (state: State, jid: Jid.Jid): Step<StreamState> => ({
  state: { _tag: "Bound", jid },
  actions: [{
    _tag: "Bound",
    jid,
    features: state.features,
    mechanism: state.authenticated.mechanism,
    scramKeys: state.authenticated.keys,
    ...(state.resumption === undefined ? {} : { resumption: state.resumption })
  }]
})

const onSessionAnswer = (
  state: Extract<State, { _tag: "AwaitingSessionResult" }>,
  element: Element.Element
): Step<StreamState | State> => {
  if (!isIqAnswer(element, SESSION_ID)) {
    return fail(negotiationError("unexpected-element", `expected the session result, got <${element.name}/>`))
  }
  if (Element.attribute(element, "type") !== "result") {
    const condition = StanzaError.condition(element)
    return fail(negotiationError("session-failed", `session establishment failed: ${condition}`, condition))
  }
  return bound(state, state.jid)
}

/**
 * Advances binding by one event.
 *
 * @since 0.1.0
 */
export const step = (state: State, event: Event, now: number): Step<StreamState | State> => {
  switch (state._tag) {
    case "AwaitingBindResult":
      return event._tag === "StreamElement" ? onBindAnswer(state, event.element, now) : unexpected(event)
    case "AwaitingSessionResult":
      return event._tag === "StreamElement" ? onSessionAnswer(state, event.element) : unexpected(event)
  }
}
