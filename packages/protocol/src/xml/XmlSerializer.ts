/**
 * Turns elements into XML text.
 *
 * `serialize` checks every name and character first and fails with an
 * `XmlError`; `toXml` skips the check and is for elements already checked
 * (by `validate`) or produced by the parser, which only yields valid ones.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import type { Element, Node } from "./Element.js"
import { XmlError } from "./XmlError.js"

const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

// XML 1.0 Char production; with the `u` flag a lone surrogate is one code
// point outside every range, so it is caught too.
const invalidChar = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

const nameStart = "A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF" +
  "\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}"
const nameChar = nameStart + "\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040"
const ncName = new RegExp(`^[${nameStart}][${nameChar}]*$`, "u")
const qName = new RegExp(`^[${nameStart}][${nameChar}]*(?::[${nameStart}][${nameChar}]*)?$`, "u")

const textSpecial = /[&<>\r]/
const attributeSpecial = /[&<>'\t\n\r]/

/**
 * Text content escaped for XML (`>` too, so `]]>` never appears).
 *
 * @since 0.1.0
 */
export const escapeText = (value: string): string =>
  textSpecial.test(value)
    ? value.replace(/[&<>\r]/g, (c) => c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&#13;")
    : value

/**
 * An attribute value escaped for single quotes; tab and line ends as
 * character references, so they survive attribute-value normalization.
 *
 * @since 0.1.0
 */
export const escapeAttribute = (value: string): string =>
  attributeSpecial.test(value)
    ? value.replace(/[&<>'\t\n\r]/g, (c) => {
      switch (c) {
        case "&":
          return "&amp;"
        case "<":
          return "&lt;"
        case ">":
          return "&gt;"
        case "'":
          return "&apos;"
        case "\t":
          return "&#9;"
        case "\n":
          return "&#10;"
        default:
          return "&#13;"
      }
    })
    : value

/**
 * The namespace context an element is written in: the default namespace in
 * force and the prefixes already declared by ancestors.
 *
 * @since 0.1.0
 */
export interface Scope {
  readonly defaultNamespace: string
  readonly prefixes: ReadonlyMap<string, string>
}

/**
 * The scope at the top of a document.
 *
 * @since 0.1.0
 */
export const rootScope: Scope = { defaultNamespace: "", prefixes: new Map([["xml", XML_NAMESPACE]]) }

/**
 * A scope whose default namespace is `namespace`, for writing stanzas inside a
 * stream or `<body/>` whose header declared it.
 *
 * @since 0.1.0
 */
export const scopeWithDefault = (namespace: string, prefixes?: Readonly<Record<string, string>>): Scope => ({
  defaultNamespace: namespace,
  prefixes: new Map([...rootScope.prefixes, ...Object.entries(prefixes ?? {})])
})

const openTagWithScope = (element: Element, scope: Scope): { readonly text: string; readonly scope: Scope } => {
  const qualified = element.prefix === undefined ? element.name : `${element.prefix}:${element.name}`
  let text = "<" + qualified
  let defaultNamespace = scope.defaultNamespace
  let prefixes = scope.prefixes
  if (element.prefix === undefined) {
    if (element.namespace !== scope.defaultNamespace) {
      text += ` xmlns='${escapeAttribute(element.namespace)}'`
      defaultNamespace = element.namespace
    }
  } else if (
    prefixes.get(element.prefix) !== element.namespace &&
    element.attributes[`xmlns:${element.prefix}`] === undefined
  ) {
    text += ` xmlns:${element.prefix}='${escapeAttribute(element.namespace)}'`
    prefixes = new Map(prefixes).set(element.prefix, element.namespace)
  }
  for (const [key, value] of Object.entries(element.attributes)) {
    text += ` ${key}='${escapeAttribute(value)}'`
    if (key.startsWith("xmlns:")) {
      prefixes = new Map(prefixes).set(key.slice(6), value)
    }
  }
  return { text, scope: { defaultNamespace, prefixes } }
}

const write = (node: Node, scope: Scope): string => {
  if (typeof node === "string") return escapeText(node)
  const open = openTagWithScope(node, scope)
  if (node.children.length === 0) return open.text + "/>"
  let text = open.text + ">"
  for (const child of node.children) text += write(child, open.scope)
  const qualified = node.prefix === undefined ? node.name : `${node.prefix}:${node.name}`
  return text + "</" + qualified + ">"
}

/**
 * Writes an element without checking it. Only for elements that `validate`
 * accepted or that the parser produced.
 *
 * @since 0.1.0
 */
export const toXml = (element: Element, scope: Scope = rootScope): string => write(element, scope)

/**
 * Writes only the start tag, for stream headers (`<stream:stream …>`) that
 * stay open for the life of the stream.
 *
 * @since 0.1.0
 */
export const openTag = (element: Element, scope: Scope = rootScope): string =>
  openTagWithScope(element, scope).text + ">"

/**
 * Checks names and characters of an element and all its descendants.
 *
 * @since 0.1.0
 */
export const validate = (element: Element): Result.Result<Element, XmlError> => {
  const problem = findProblem(element)
  return problem === undefined ? Result.succeed(element) : Result.fail(problem)
}

const invalid = (message: string) => new XmlError({ reason: "InvalidCharacter", message, offset: -1 })
const malformed = (message: string) => new XmlError({ reason: "Malformed", message, offset: -1 })

const findProblem = (node: Node): XmlError | undefined => {
  if (typeof node === "string") {
    return invalidChar.test(node) ? invalid("text contains a character XML 1.0 does not allow") : undefined
  }
  if (!ncName.test(node.name)) return malformed(`invalid element name ${JSON.stringify(node.name)}`)
  if (node.prefix !== undefined && (!ncName.test(node.prefix) || node.prefix === "xmlns")) {
    return malformed(`invalid prefix ${JSON.stringify(node.prefix)}`)
  }
  if (invalidChar.test(node.namespace)) return invalid("namespace contains a character XML 1.0 does not allow")
  for (const [key, value] of Object.entries(node.attributes)) {
    if (!qName.test(key) || key === "xmlns") return malformed(`invalid attribute name ${JSON.stringify(key)}`)
    if (invalidChar.test(value)) {
      return invalid(`attribute ${key} contains a character XML 1.0 does not allow`)
    }
  }
  for (const child of node.children) {
    const problem = findProblem(child)
    if (problem !== undefined) return problem
  }
  return undefined
}

/**
 * Checks, then writes.
 *
 * @since 0.1.0
 */
export const serialize = (element: Element, scope: Scope = rootScope): Result.Result<string, XmlError> =>
  Result.map(validate(element), (valid) => write(valid, scope))
