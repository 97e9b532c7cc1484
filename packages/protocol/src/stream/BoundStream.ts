/**
 * What the events of a bound `jabber:client` stream mean (RFC 6120 §8):
 * once negotiation is over, every top-level element is a stanza, a
 * `<stream:error/>`, or something with no place there; the server's
 * `</stream:stream>` ends the stream, and a second header is an error.
 *
 * @since 0.1.0
 */
import * as Element from "../xml/Element.js"
import * as Namespaces from "../xml/Namespaces.js"
import type { XmlStreamEvent } from "../xml/XmlStreamEvent.js"
import * as StreamError from "./StreamError.js"

const STANZA_NAMES: ReadonlySet<string> = new Set(["message", "presence", "iq"])

/**
 * Whether an element is a stanza of a client stream: `message`, `presence`
 * or `iq` in `jabber:client`.
 *
 * @since 0.1.0
 */
export const isStanza = (element: Element.Element): boolean =>
  element.namespace === Namespaces.JABBER_CLIENT && STANZA_NAMES.has(element.name)

/**
 * One event of a bound stream, classified.
 *
 * - `Stanza`: deliver it.
 * - `End`: the server closed its stream.
 * - `StreamError`: the server ended the stream with this error.
 * - `Unexpected`: something that has no place on a bound stream; `message` says what.
 *
 * @since 0.1.0
 */
export type Classified =
  | { readonly _tag: "Stanza"; readonly element: Element.Element }
  | { readonly _tag: "End" }
  | { readonly _tag: "StreamError"; readonly error: StreamError.StreamError }
  | { readonly _tag: "Unexpected"; readonly message: string }

/**
 * Classifies one event of a bound stream.
 *
 * @since 0.1.0
 */
export const classify = (event: XmlStreamEvent): Classified => {
  if (event._tag === "StreamClose") return { _tag: "End" }
  if (event._tag === "StreamOpen") return { _tag: "Unexpected", message: "a second stream header on a bound stream" }
  const element = event.element
  if (isStanza(element)) return { _tag: "Stanza", element }
  if (StreamError.isStreamError(element)) return { _tag: "StreamError", error: StreamError.fromElement(element) }
  return {
    _tag: "Unexpected",
    message: `the server sent <${element.name} xmlns='${element.namespace}'/>, which is not a stanza`
  }
}
