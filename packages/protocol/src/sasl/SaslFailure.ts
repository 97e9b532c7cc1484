/**
 * A `<failure/>` from the server during SASL (RFC 6120 §6.5), as data.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import * as Element from "../xml/Element.js"

/**
 * The defined SASL failure conditions of RFC 6120 §6.5.
 *
 * @since 0.1.0
 */
export type Condition =
  | "aborted"
  | "account-disabled"
  | "credentials-expired"
  | "encryption-required"
  | "incorrect-encoding"
  | "invalid-authzid"
  | "invalid-mechanism"
  | "malformed-request"
  | "mechanism-too-weak"
  | "not-authorized"
  | "temporary-auth-failure"

const conditions: ReadonlySet<string> = new Set<Condition>([
  "aborted",
  "account-disabled",
  "credentials-expired",
  "encryption-required",
  "incorrect-encoding",
  "invalid-authzid",
  "invalid-mechanism",
  "malformed-request",
  "mechanism-too-weak",
  "not-authorized",
  "temporary-auth-failure"
])

const isCondition = (name: string): name is Condition => conditions.has(name)

/**
 * The server refused the authentication. `reason` is the condition the server
 * named (an unknown or missing one is `not-authorized`, as RFC 6120 asks a
 * client to treat it); `text` is the server's human-readable text, if any.
 *
 * @since 0.1.0
 */
export class SaslFailure extends Data.TaggedError("SaslFailure")<{
  readonly reason: Condition
  readonly message: string
  readonly text: string | undefined
  readonly mechanism: string
}> {}

/**
 * Reads a `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>` element.
 *
 * @since 0.1.0
 */
export const fromElement = (failure: Element.Element, mechanism: string): SaslFailure => {
  let reason: Condition = "not-authorized"
  let text: string | undefined
  for (const child of Element.elements(failure)) {
    if (child.name === "text") text = Element.text(child)
    else if (isCondition(child.name)) reason = child.name
  }
  return new SaslFailure({
    reason,
    text,
    mechanism,
    message: `SASL ${mechanism} failed: ${reason}${text === undefined ? "" : ` (${text})`}`
  })
}

