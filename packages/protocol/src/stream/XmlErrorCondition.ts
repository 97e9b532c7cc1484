/**
 * The stream error condition (RFC 6120 §4.9.3) a client sends when it
 * refuses the XML the server wrote: the rule between the XML layer's
 * `XmlError` and the `<stream:error/>` that ends the stream.
 *
 * @since 0.1.0
 */
import type { XmlError } from "../xml/XmlError.js"
import type * as StreamError from "./StreamError.js"

/**
 * The condition for XML we refuse.
 *
 * - `RestrictedXml` → `restricted-xml` (§4.9.3.18: DOCTYPE, comments, PIs, entities);
 * - `UnsupportedEncoding` → `unsupported-encoding` (§4.9.3.22);
 * - `TooLarge`, `TooDeep`, `TooManyAttributes` → `policy-violation` (§4.9.3.14: a local limit);
 * - `UnexpectedNamespace` → `invalid-namespace` (§4.9.3.10: a stream header
 *   outside the streams namespace);
 * - `UnexpectedElement` → `invalid-xml` (§4.9.3.11);
 * - anything else (malformed XML, bad characters or UTF-8) → `not-well-formed` (§4.9.3.13).
 *
 * @since 0.1.0
 */
export const conditionOf = (error: XmlError): StreamError.Condition => {
  switch (error.reason) {
    case "RestrictedXml":
      return "restricted-xml"
    case "UnsupportedEncoding":
      return "unsupported-encoding"
    case "TooLarge":
    case "TooDeep":
    case "TooManyAttributes":
      return "policy-violation"
    case "UnexpectedNamespace":
      return "invalid-namespace"
    case "UnexpectedElement":
      return "invalid-xml"
    default:
      return "not-well-formed"
  }
}
