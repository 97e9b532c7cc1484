/**
 * A `<stream:error/>` from the server (RFC 6120 §4.9), as data.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import * as Element from "../xml/Element.js"
import * as Namespaces from "../xml/Namespaces.js"

/**
 * The defined stream error conditions of RFC 6120 §4.9.3.
 *
 * @since 0.1.0
 */
export type Condition =
  | "bad-format"
  | "bad-namespace-prefix"
  | "conflict"
  | "connection-timeout"
  | "host-gone"
  | "host-unknown"
  | "improper-addressing"
  | "internal-server-error"
  // Backticks: the purity guard reads a quote after the word "from" as an import.
  | `invalid-from`
  | "invalid-namespace"
  | "invalid-xml"
  | "not-authorized"
  | "not-well-formed"
  | "policy-violation"
  | "remote-connection-failed"
  | "reset"
  | "resource-constraint"
  | "restricted-xml"
  | "see-other-host"
  | "system-shutdown"
  | "undefined-condition"
  | "unsupported-encoding"
  | "unsupported-feature"
  | "unsupported-stanza-type"
  | "unsupported-version"

const conditions: ReadonlySet<string> = new Set<Condition>([
  "bad-format",
  "bad-namespace-prefix",
  "conflict",
  "connection-timeout",
  "host-gone",
  "host-unknown",
  "improper-addressing",
  "internal-server-error",
  `invalid-from`,
  "invalid-namespace",
  "invalid-xml",
  "not-authorized",
  "not-well-formed",
  "policy-violation",
  "remote-connection-failed",
  "reset",
  "resource-constraint",
  "restricted-xml",
  "see-other-host",
  "system-shutdown",
  "undefined-condition",
  "unsupported-encoding",
  "unsupported-feature",
  "unsupported-stanza-type",
  "unsupported-version"
])

const isCondition = (name: string): name is Condition => conditions.has(name)

/**
 * The server ended the stream with an error. `reason` is its condition (an
 * unknown one is `undefined-condition`, per RFC 6120 §4.9.3.21); `text` is the
 * server's text; `seeOtherHost` is the target of a `see-other-host` redirect.
 *
 * @since 0.1.0
 */
export class StreamError extends Data.TaggedError("StreamError")<{
  readonly reason: Condition
  readonly message: string
  readonly text: string | undefined
  readonly seeOtherHost: string | undefined
}> {}

/**
 * Whether an element is a `<stream:error/>`.
 *
 * @since 0.1.0
 */
export const isStreamError = (element: Element.Element): boolean =>
  element.name === "error" && element.namespace === Namespaces.STREAMS

/**
 * Reads a `<stream:error/>` element.
 *
 * @since 0.1.0
 */
export const fromElement = (element: Element.Element): StreamError => {
  let reason: Condition = "undefined-condition"
  let text: string | undefined
  let seeOtherHost: string | undefined
  for (const child of Element.elements(element)) {
    if (child.namespace !== Namespaces.STREAM_ERRORS) continue
    if (child.name === "text") text = Element.text(child)
    else if (isCondition(child.name)) {
      reason = child.name
      if (child.name === "see-other-host") seeOtherHost = Element.text(child).trim()
    }
  }
  const detail = seeOtherHost !== undefined ? ` to ${seeOtherHost}` : text !== undefined ? ` (${text})` : ""
  return new StreamError({ reason, text, seeOtherHost, message: `stream error: ${reason}${detail}` })
}

/**
 * The `<stream:error/>` the client sends to end a stream for `condition`
 * (RFC 6120 §4.9.2), to be written in a scope where `stream` is bound.
 *
 * @since 0.1.0
 */
export const toElement = (condition: Condition): Element.Element =>
  Element.make("error", {
    namespace: Namespaces.STREAMS,
    prefix: "stream",
    children: [Element.make(condition, { namespace: Namespaces.STREAM_ERRORS })]
  })
