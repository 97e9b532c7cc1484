/**
 * The XML console: a hook that sees the XML a transport writes and reads,
 * for a `--debug` view. SASL exchanges are redacted on the way out: PLAIN
 * carries the password and a SCRAM client-final carries the proof, so the
 * content of every `<auth/>` and `<response/>` is replaced.
 *
 * @since 0.1.0
 */
import { Element, Namespaces } from "@xmpp-core/protocol"

/**
 * `out`: written by the client; `in`: received from the server.
 *
 * @since 0.1.0
 */
export type Direction = "in" | "out"

/**
 * Called with each piece of traffic as text. Incoming text is the raw bytes
 * as they arrived (a chunk may split or join elements); outgoing text is one
 * element or stream header per call. Must not throw.
 *
 * @since 0.1.0
 */
export type OnTraffic = (direction: Direction, xml: string) => void

/**
 * What replaces a secret.
 *
 * @since 0.1.0
 */
export const redactedText = "…redacted…"

/**
 * Whether an outgoing element carries SASL data that may hold a secret.
 *
 * @since 0.1.0
 */
export const isSecret = (element: Element.Element): boolean =>
  element.namespace === Namespaces.SASL && (element.name === "auth" || element.name === "response")

/**
 * The element as the console may show it: SASL `<auth/>` and `<response/>`
 * keep their attributes (the mechanism name) but lose their payload.
 *
 * @since 0.1.0
 */
export const redact = (element: Element.Element): Element.Element =>
  isSecret(element) && element.children.length > 0 ? Element.withChildren(element, [redactedText]) : element
