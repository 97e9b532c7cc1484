/**
 * Writes the text of BOSH requests: the `<body/>` wrapper and the stanzas in
 * it. The machine keeps this text per rid, so a resend is byte for byte the
 * same request.
 *
 * @since 0.1.0
 */
import type { Result } from "effect"
import type * as Element from "../xml/Element.js"
import type { XmlError } from "../xml/XmlError.js"
import { HTTP_BIND } from "../xml/Namespaces.js"
import * as XmlSerializer from "../xml/XmlSerializer.js"
import * as StanzaWriter from "./StanzaWriter.js"

/**
 * The namespace scope stanzas are written in inside `<body/>`: `jabber:client`
 * stanzas carry their own `xmlns`, as XEP-0206 asks.
 *
 * @since 0.1.0
 */
export const stanzaScope = XmlSerializer.scopeWithDefault(HTTP_BIND)

/**
 * A stanza's text as it goes inside `<body/>` (the exact text and errors of
 * `XmlSerializer.serialize` in the body's scope, written faster).
 *
 * @since 0.1.0
 */
export const serializeStanza = (element: Element.Element): Result.Result<string, XmlError> =>
  StanzaWriter.write(element, stanzaScope)

/** Whether an attribute value has a character to escape; a plain scan beats a regex on these short values. */
const needsEscape = (value: string): boolean => {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    // & ' " < > and the three whitespace controls
    if (code < 0x20 || code === 0x26 || code === 0x27 || code === 0x22 || code === 0x3c || code === 0x3e) return true
  }
  return false
}

const escapeAttribute = (value: string): string =>
  needsEscape(value)
    ? value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&apos;")
      .replace(/"/g, "&quot;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;")
    : value

/** Attributes whose values the machine itself writes as digits or hex: nothing to escape, nothing to scan. */
const hexOrDigits: ReadonlySet<string> = new Set(["rid", "ack", "key", "newkey", "pause"])

/**
 * The text of one `<body/>` request: its attributes (rid, sid, key, …) and the
 * payload text already written.
 *
 * @since 0.1.0
 */
export const writeBody = (attributes: Readonly<Record<string, string>>, payloadText: string): string => {
  let text = "<body"
  for (const name in attributes) {
    const value = attributes[name]
    if (value !== undefined) text += ` ${name}='${hexOrDigits.has(name) ? value : escapeAttribute(value)}'`
  }
  text += ` xmlns='${HTTP_BIND}'`
  return payloadText.length === 0 ? text + "/>" : text + ">" + payloadText + "</body>"
}
