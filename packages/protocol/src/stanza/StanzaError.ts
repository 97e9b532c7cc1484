/**
 * Stanza errors (RFC 6120 §8.3): the condition an `<error/>` child names.
 *
 * @since 0.1.0
 */
import * as Element from "../xml/Element.js"
import * as Namespaces from "../xml/Namespaces.js"

/**
 * The defined condition of a stanza's `<error/>` (e.g. `conflict`,
 * `service-unavailable`), or `undefined-condition` when it names none.
 *
 * @since 0.1.0
 */
export const condition = (stanza: Element.Element): string => {
  const error = Element.child(stanza, "error")
  const named = error === undefined
    ? undefined
    : Element.elements(error).find((child) => child.namespace === Namespaces.STANZAS && child.name !== "text")
  return named?.name ?? "undefined-condition"
}
