/**
 * Resuming a stream-management session (XEP-0198 §5) as a stream feature:
 * after authentication, when `Config.resume` carries the `<resume/>` the
 * stream-management machine wrote and the server offers `urn:xmpp:sm:3`,
 * it is sent in place of binding. `<resumed/>` ends negotiation on the
 * resumed session's JID; `<failed/>` goes on to bind a new session. Either
 * answer travels in the `Bound` action (`resumption`), for the
 * stream-management machine to read.
 *
 * Enabling stream management on a new session comes after binding and is
 * the stream-management machine's own (`sm/StreamManagement`).
 *
 * @since 0.1.0
 */
import * as Element from "../../xml/Element.js"
import * as Namespaces from "../../xml/Namespaces.js"
import * as BindFeature from "./BindFeature.js"
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
 * Waiting for the answer to `<resume/>`.
 *
 * @since 0.1.0
 */
export type State = {
  readonly _tag: "AwaitingResumeResult"
  readonly context: Context
  readonly deadline: number
  readonly authenticated: Authenticated
  readonly features: Element.Element
}

/**
 * Sends the `<resume/>` of `Config.resume` when the restarted `features`
 * offer stream management; `undefined` when there is nothing to resume or
 * the server offers no stream management (binding follows).
 *
 * @since 0.1.0
 */
export const make = (
  context: Context,
  authenticated: Authenticated,
  features: Element.Element,
  now: number
): Step<State> | undefined => {
  const resume = context.config.resume
  if (resume === undefined || Element.child(features, "sm", Namespaces.STREAM_MANAGEMENT) === undefined) return undefined
  return {
    state: { _tag: "AwaitingResumeResult", context, deadline: now + responseTimeout(context), authenticated, features },
    actions: [send(resume.request)]
  }
}

/**
 * Advances resumption by one event.
 *
 * @since 0.1.0
 */
export const step = (state: State, event: Event, now: number): Step<StreamState | State | BindFeature.State> => {
  if (event._tag !== "StreamElement") return unexpected(event)
  const answer = event.element
  if (answer.namespace !== Namespaces.STREAM_MANAGEMENT || (answer.name !== "resumed" && answer.name !== "failed")) {
    return fail(negotiationError("unexpected-element", `expected the answer to <resume/>, got <${answer.name}/>`))
  }
  const resume = state.context.config.resume
  if (answer.name === "resumed" && resume !== undefined) {
    return {
      state: { _tag: "Bound", jid: resume.jid },
      actions: [{
        _tag: "Bound",
        jid: resume.jid,
        features: state.features,
        mechanism: state.authenticated.mechanism,
        scramKeys: state.authenticated.keys,
        resumption: answer
      }]
    }
  }
  // Not resumable (expired, unknown): a new session, told that resumption failed.
  return BindFeature.make(state.context, state.authenticated, state.features, now, answer)
}
