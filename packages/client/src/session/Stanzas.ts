/**
 * The stanzas of a bound stream, both ways: what the caller hands over is
 * checked before it is sent, what the transport delivers is classified.
 *
 * @since 0.1.0
 */
import { BoundStream, type Element, Namespaces, XmlSerializer, type XmlStreamEvent } from "@xmpp-core/protocol"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { XmppClientError } from "../XmppClientError.js"

/**
 * Maps one transport event of a bound stream to a stanza, the end, or an
 * error (the classification is the protocol's `BoundStream`).
 *
 * @since 0.1.0
 */
export const toStanza = (
  event: XmlStreamEvent.XmlStreamEvent
): Effect.Effect<Element.Element, XmppClientError | Cause.Done> => {
  const classified = BoundStream.classify(event)
  switch (classified._tag) {
    case "Stanza":
      return Effect.succeed(classified.element)
    case "End":
      return Cause.done()
    case "StreamError": {
      const error = classified.error
      return Effect.fail(new XmppClientError({ reason: "StreamError", message: error.message, condition: error.reason, cause: error }))
    }
    case "Unexpected":
      return Effect.fail(new XmppClientError({ reason: "UnexpectedElement", message: classified.message }))
  }
}

/**
 * A stanza the caller hands over, checked: a `message`, `presence` or `iq`
 * in `jabber:client` whose names and characters serialize.
 *
 * @since 0.1.0
 */
export const checkStanza = (stanza: Element.Element): Effect.Effect<Element.Element, XmppClientError> => {
  if (!BoundStream.isStanza(stanza)) {
    return Effect.fail(
      new XmppClientError({
        reason: "InvalidStanza",
        message: `<${stanza.name} xmlns='${stanza.namespace}'/> is not a stanza: expected message, presence or iq in ${Namespaces.JABBER_CLIENT}`
      })
    )
  }
  const valid = XmlSerializer.validate(stanza)
  return Result.isSuccess(valid)
    ? Effect.succeed(valid.success)
    : Effect.fail(new XmppClientError({ reason: "InvalidStanza", message: valid.failure.message, cause: valid.failure }))
}

