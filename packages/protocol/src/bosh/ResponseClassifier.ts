/**
 * Classifies one HTTP answer of the connection manager (XEP-0124 §17):
 * payloads to accept, a terminal condition, or a recoverable failure.
 *
 * @since 0.1.0
 */
import * as Element from "../xml/Element.js"
import { HTTP_BIND, STREAMS } from "../xml/Namespaces.js"
import type { XmlError } from "../xml/XmlError.js"
import { BoshError, isTerminalCondition, type TerminalCondition } from "./BoshError.js"

/**
 * An HTTP answer as the machine gets it.
 *
 * @since 0.1.0
 */
export interface Response {
  readonly status: number
  readonly reasonPhrase?: string | undefined
  /** The parsed `<body/>`; undefined when the HTTP body was empty or unparsable. */
  readonly body: Element.Element | undefined
  /** Why the body could not be parsed, when it could not. */
  readonly bodyError?: XmlError | undefined
}

/**
 * An answer accepted for its rid: its body, and the terminal condition it
 * carries, if any.
 *
 * @since 0.1.0
 */
export interface Received {
  readonly body: Element.Element | undefined
  readonly terminal: BoshError | undefined
}

const legacyStatus: Readonly<Record<number, TerminalCondition>> = {
  400: "bad-request",
  403: "policy-violation",
  404: "item-not-found"
}

const conditionError = (condition: TerminalCondition, body: Element.Element | undefined, status?: number) => {
  const uri = condition === "see-other-uri" && body !== undefined
    ? Element.text(Element.child(body, "uri") ?? Element.make("uri")).trim()
    : undefined
  const streamError = condition === "remote-stream-error" && body !== undefined
    ? Element.child(body, "error", STREAMS)
    : undefined
  return new BoshError({
    reason: condition,
    message: `the connection manager ended the session: ${condition}`,
    status,
    uri,
    streamError
  })
}

/**
 * What a response means for the session: accept it (payloads, maybe a
 * terminal condition), or resend (this request, or every unanswered one).
 *
 * @since 0.1.0
 */
export type Classified =
  | { readonly _tag: "Accept"; readonly received: Received }
  | { readonly _tag: "Recoverable"; readonly reason: string }
  | { readonly _tag: "RecoverableAll" }

/**
 * Reads a condition from wherever the connection manager put it: the body's
 * `type`/`condition`, the HTTP reason phrase with status 200 (ejabberd), or a
 * legacy status (400, 403, 404).
 *
 * @since 0.1.0
 */
export const classify = (event: Response): Classified => {
  const phrase = event.reasonPhrase?.trim().toLowerCase()
  if (event.status === 200) {
    // ejabberd puts the condition in the reason phrase with status 200.
    if (phrase !== undefined && isTerminalCondition(phrase)) {
      return { _tag: "Accept", received: { body: event.body, terminal: conditionError(phrase, event.body, 200) } }
    }
    const body = event.body
    if (event.bodyError !== undefined) {
      // The manager answers a resent rid with the same bytes: resending cannot mend them.
      return {
        _tag: "Accept",
        received: {
          body: undefined,
          terminal: new BoshError({
            reason: "invalid-response",
            message: `the answer is not well-formed XML: ${event.bodyError.message}`,
            cause: event.bodyError
          })
        }
      }
    }
    if (body === undefined) return { _tag: "Recoverable", reason: "HTTP 200 with an empty body" }
    if (body.name !== "body" || body.namespace !== HTTP_BIND) {
      return {
        _tag: "Accept",
        received: {
          body: undefined,
          terminal: new BoshError({ reason: "invalid-response", message: `expected <body/>, got <${body.name}/>` })
        }
      }
    }
    const type = Element.attribute(body, "type")
    if (type === "error") return { _tag: "RecoverableAll" }
    const condition = Element.attribute(body, "condition")
    if (type === "terminate" && condition !== undefined) {
      // A condition the XEP does not name is still terminal: undefined-condition.
      const known = isTerminalCondition(condition) ? condition : "undefined-condition"
      return { _tag: "Accept", received: { body, terminal: conditionError(known, body) } }
    }
    return { _tag: "Accept", received: { body, terminal: undefined } }
  }
  const legacy = legacyStatus[event.status]
  if (legacy !== undefined) {
    return { _tag: "Accept", received: { body: event.body, terminal: conditionError(legacy, undefined, event.status) } }
  }
  // 5xx, 408 and 429 say "not now"; any other client error says the same bytes will never do.
  const transient = event.status >= 500 || event.status === 408 || event.status === 429 || event.status < 400
  if (!transient) {
    const phrase = event.reasonPhrase === undefined || event.reasonPhrase === "" ? "" : ` ${event.reasonPhrase}`
    return {
      _tag: "Accept",
      received: {
        body: undefined,
        terminal: new BoshError({
          reason: "undefined-condition",
          message: `the connection manager answered HTTP ${event.status}${phrase}`,
          status: event.status
        })
      }
    }
  }
  return { _tag: "Recoverable", reason: `HTTP ${event.status}` }
}
