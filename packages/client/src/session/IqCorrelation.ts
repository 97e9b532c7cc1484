/**
 * `iq` requests waiting for their answers (RFC 6120 §8.2.3): each has an id,
 * and the answer is the `result` or `error` with that id from whom the
 * request went to — our own account's answers may come with no `from`, or
 * from our bare JID or domain (§8.1.2.1). Anything else with the id is an
 * ordinary stanza: a spoofed answer is never taken.
 *
 * @since 0.1.0
 */
import { Element, Jid, Namespaces, StanzaError } from "@xmpp-core/protocol"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import { XmppClientError } from "../XmppClientError.js"

/**
 * - `timeout`: how long to wait for the answer (default 30 s).
 *
 * @since 0.1.0
 */
export interface IqOptions {
  readonly timeout?: Duration.Input | undefined
}

interface Pending {
  readonly to: string | undefined
  readonly answer: Deferred.Deferred<Element.Element, XmppClientError>
}

/**
 * @since 0.1.0
 */
export interface IqCorrelation {
  /** How many requests wait. */
  readonly size: () => number
  /** Checks a request and registers it: the request with its id, and the answer to await. */
  readonly register: (
    request: Element.Element
  ) => Effect.Effect<{ readonly id: string; readonly request: Element.Element; readonly answer: Deferred.Deferred<Element.Element, XmppClientError> }, XmppClientError>
  readonly forget: (id: string) => void
  /** The waiting request `stanza` answers, taken off the list; `undefined` when it answers none. */
  readonly answerTo: (stanza: Element.Element, own: Jid.Jid) => Deferred.Deferred<Element.Element, XmppClientError> | undefined
  /** Fails every waiting request (the session ended). */
  readonly failAll: (error: XmppClientError) => Effect.Effect<void>
}

/**
 * A request list; `onChange` is called whenever it grows or shrinks.
 *
 * @since 0.1.0
 */
export const make = (onChange: () => void): IqCorrelation => {
  const pending = new Map<string, Pending>()
  let count = 0
  const forget = (id: string) => {
    pending.delete(id)
    onChange()
  }
  return {
    size: () => pending.size,
    register: (request) =>
      Effect.gen(function*() {
        const type = Element.attribute(request, "type")
        if (request.name !== "iq" || (type !== "get" && type !== "set")) {
          return yield* new XmppClientError({ reason: "InvalidStanza", message: "iq takes an <iq type='get'/> or <iq type='set'/>" })
        }
        const id = Element.attribute(request, "id") ?? `iq-${++count}-${Math.round(yield* Random.nextBetween(0, 1e9))}`
        const answer = yield* Deferred.make<Element.Element, XmppClientError>()
        pending.set(id, { to: Element.attribute(request, "to"), answer })
        onChange()
        return { id, request: Element.withAttribute(request, "id", id), answer }
      }),
    forget,
    answerTo: (stanza, own) => {
      if (stanza.name !== "iq") return undefined
      const type = Element.attribute(stanza, "type")
      const id = Element.attribute(stanza, "id")
      if ((type !== "result" && type !== "error") || id === undefined) return undefined
      const waiting = pending.get(id)
      if (waiting === undefined) return undefined
      const from = Element.attribute(stanza, "from")
      const bare = Jid.format(Jid.bare(own))
      const fromAsked = waiting.to === undefined || waiting.to === bare
        ? [undefined, bare, own.domain, Jid.format(own)].includes(from)
        : from === waiting.to
      if (!fromAsked) return undefined
      forget(id)
      return waiting.answer
    },
    failAll: (error) =>
      Effect.gen(function*() {
        for (const [, waiting] of pending) yield* Deferred.fail(waiting.answer, error)
        pending.clear()
        onChange()
      })
  }
}

/**
 * What the caller of `iq` gets: the result, `IqError` with the condition, or `Timeout`.
 *
 * @since 0.1.0
 */
export const outcome = (
  id: string,
  timeout: Duration.Input,
  answer: Option.Option<Element.Element>
): Effect.Effect<Element.Element, XmppClientError> => {
  if (Option.isNone(answer)) {
    return Effect.fail(new XmppClientError({
      reason: "Timeout",
      message: `no answer to the iq ${id} within ${Duration.format(Duration.fromInputUnsafe(timeout))}`
    }))
  }
  const reply = answer.value
  if (Element.attribute(reply, "type") !== "error") return Effect.succeed(reply)
  const condition = StanzaError.condition(reply)
  return Effect.fail(new XmppClientError({
    reason: "IqError",
    message: `the iq ${id} was answered with an error: ${condition}`,
    condition,
    stanza: reply
  }))
}

/** XEP-0199. @since 0.1.0 */
export const PING = "urn:xmpp:ping"

/**
 * An XEP-0199 ping to `to`.
 *
 * @since 0.1.0
 */
export const ping = (to: string): Element.Element =>
  Element.make("iq", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { type: "get", to },
    children: [Element.make("ping", { namespace: PING })]
  })
