/**
 * Checks and writes one stanza for a `<body/>` whose default namespace is
 * the BOSH namespace (`http://jabber.org/protocol/httpbind`): the same
 * text and the same `XmlError` as `XmlSerializer.serialize(element, scope)`,
 * in one pass.
 *
 * Why not just `XmlSerializer.serialize`: every stanza a client sends goes
 * through here, and the general serializer checks each name with a large
 * Unicode regular expression, each text twice (once to check, once to
 * escape) and builds a scope object per element. Stanzas repeat a handful of
 * names (`message`, `body`, `to`, `id`, `type`…), so a name checked once is
 * remembered, and plain ASCII text is checked and copied in one scan.
 *
 * Anything out of the ordinary (a prefix, an `xmlns:` declaration, a
 * character that is not printable ASCII, an invalid name) is handed to
 * `XmlSerializer.serialize`, which stays the single reference for exact
 * output and error messages.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import type * as Element from "../xml/Element.js"
import type { XmlError } from "../xml/XmlError.js"
import * as XmlSerializer from "../xml/XmlSerializer.js"

// Names seen valid, with their kind. Bounded: cleared when full, so a peer
// sending ever new names costs time, never memory.
const MAX_REMEMBERED_NAMES = 4096
const validNames = new Set<string>()
const validAttributeNames = new Set<string>()

const ncName = /^[A-Z_a-z][A-Z_a-z\-.0-9]*$/
const qName = /^[A-Z_a-z][A-Z_a-z\-.0-9]*(?::[A-Z_a-z][A-Z_a-z\-.0-9]*)?$/

const remember = (names: Set<string>, name: string): void => {
  if (names.size >= MAX_REMEMBERED_NAMES) names.clear()
  names.add(name)
}

/** An ASCII element name the fast path can take (else the general serializer decides). */
const isPlainName = (name: string): boolean => {
  if (validNames.has(name)) return true
  if (!ncName.test(name)) return false
  remember(validNames, name)
  return true
}

const isPlainAttributeName = (name: string): boolean => {
  if (validAttributeNames.has(name)) return true
  // `xmlns` is not an attribute here, `xmlns:…` changes the scope: both go the general way.
  if (name === "xmlns" || name.startsWith("xmlns:") || !qName.test(name)) return false
  remember(validAttributeNames, name)
  return true
}

/** Not written by the fast path. */
const SLOW = -1
/** Printable ASCII and tab/newline: copy as is. */
const PLAIN = 0
/** Printable ASCII that needs an entity somewhere. */
const ESCAPE = 1

/**
 * One scan: is the value printable ASCII (plus tab and newline), and does it
 * need escaping? Anything else (carriage return, other controls, non-ASCII)
 * is left to the general serializer.
 */
const scan = (value: string, quote: boolean): number => {
  let result = PLAIN
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code >= 0x20 && code < 0x7f) {
      // & < > always; ' inside an attribute (written with single quotes)
      if (code === 0x26 || code === 0x3c || code === 0x3e || (quote && code === 0x27)) result = ESCAPE
    } else if (code === 0x09 || code === 0x0a) {
      if (quote) result = ESCAPE
    } else {
      return SLOW
    }
  }
  return result
}

const { escapeAttribute, escapeText } = XmlSerializer

/** `node` written in the default namespace `inherited`; undefined when the fast path cannot. */
const writeFast = (node: Element.Node, inherited: string): string | undefined => {
  if (typeof node === "string") {
    const kind = scan(node, false)
    return kind === PLAIN ? node : kind === ESCAPE ? escapeText(node) : undefined
  }
  if (node.prefix !== undefined || !isPlainName(node.name)) return undefined
  let text = "<" + node.name
  if (node.namespace !== inherited) {
    const kind = scan(node.namespace, true)
    if (kind === SLOW) return undefined
    text += " xmlns='" + (kind === PLAIN ? node.namespace : escapeAttribute(node.namespace)) + "'"
  }
  const attributes = node.attributes
  // Own keys, as `Object.entries` in the general serializer: faster than `for…in` on the
  // prototype-less attribute objects `Element.make` builds.
  const keys = Object.keys(attributes)
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]
    if (key === undefined) return undefined
    const value = attributes[key]
    if (value === undefined || !isPlainAttributeName(key)) return undefined
    const kind = scan(value, true)
    if (kind === SLOW) return undefined
    text += " " + key + "='" + (kind === PLAIN ? value : escapeAttribute(value)) + "'"
  }
  const children = node.children
  if (children.length === 0) return text + "/>"
  text += ">"
  for (let i = 0; i < children.length; i++) {
    const child = children[i]
    if (child === undefined) return undefined
    const written = writeFast(child, node.namespace)
    if (written === undefined) return undefined
    text += written
  }
  return text + "</" + node.name + ">"
}

/**
 * The stanza's text inside a `<body/>` whose scope is `scope`, or the
 * `XmlError` that `XmlSerializer.serialize` gives for it.
 *
 * @since 0.1.0
 */
export const write = (
  element: Element.Element,
  scope: XmlSerializer.Scope
): Result.Result<string, XmlError> => {
  const fast = writeFast(element, scope.defaultNamespace)
  return fast === undefined ? XmlSerializer.serialize(element, scope) : Result.succeed(fast)
}
