/**
 * Namespaces in XML 1.0 (third edition), resolved by the stream parser
 * itself: saxes' own resolution costs a fifth of its time (objects per
 * attribute, a Set per element), and most stanza elements declare nothing,
 * so here an element that declares nothing shares its parent's scope and
 * costs one `indexOf` per name.
 *
 * @since 0.1.0
 * @internal
 */

const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
const XMLNS_NAMESPACE = "http://www.w3.org/2000/xmlns/"

/**
 * The namespaces in force at an element: its default namespace and the
 * prefixes declared on it, falling back to its ancestors'.
 *
 * @since 0.1.0
 * @internal
 */
export interface Scope {
  readonly defaultNamespace: string
  /** Prefixes declared on this element only; `undefined` when none. */
  readonly prefixes: ReadonlyMap<string, string> | undefined
  readonly parent: Scope | undefined
}

/**
 * The scope outside the root element: no default namespace, `xml` bound.
 *
 * @since 0.1.0
 * @internal
 */
export const documentScope: Scope = {
  defaultNamespace: "",
  prefixes: new Map([["xml", XML_NAMESPACE]]),
  parent: undefined
}

/**
 * The namespace a prefix is bound to, or `undefined`.
 *
 * @since 0.1.0
 * @internal
 */
export const resolve = (scope: Scope, prefix: string): string | undefined => {
  for (let current: Scope | undefined = scope; current !== undefined; current = current.parent) {
    const namespace = current.prefixes?.get(prefix)
    if (namespace !== undefined) return namespace
  }
  return undefined
}

/**
 * Whether an attribute name is a namespace declaration (`xmlns` or `xmlns:p`).
 *
 * @since 0.1.0
 * @internal
 */
export const isDeclaration = (name: string): boolean =>
  name.charCodeAt(0) === 120 /* x */ && name.startsWith("xmlns") && (name.length === 5 || name.charCodeAt(5) === 58)

/**
 * The scope of an element with the given declarations, or a message saying
 * why they break the Namespaces in XML constraints.
 *
 * @since 0.1.0
 * @internal
 */
export const declare = (
  parent: Scope,
  attributes: Readonly<Record<string, string>>,
  names: ReadonlyArray<string>
): Scope | string => {
  let defaultNamespace = parent.defaultNamespace
  let prefixes: Map<string, string> | undefined
  for (const name of names) {
    if (!isDeclaration(name)) continue
    const value = attributes[name] ?? ""
    if (name.length === 5) {
      if (value === XML_NAMESPACE || value === XMLNS_NAMESPACE) return `the default namespace may not be ${value}`
      defaultNamespace = value
      continue
    }
    const prefix = name.slice(6)
    if (prefix.length === 0 || prefix.includes(":")) return `malformed namespace declaration ${name}`
    if (prefix === "xmlns") return "the xmlns prefix may not be declared"
    if (value === "") return `the prefix ${prefix} may not be undeclared in XML 1.0`
    if ((prefix === "xml") !== (value === XML_NAMESPACE)) return `the xml prefix is bound to ${XML_NAMESPACE} only`
    if (value === XMLNS_NAMESPACE) return `no prefix may be bound to ${XMLNS_NAMESPACE}`
    if (prefixes === undefined) prefixes = new Map()
    prefixes.set(prefix, value)
  }
  // Nothing new in force: share the parent's scope.
  return prefixes === undefined && defaultNamespace === parent.defaultNamespace
    ? parent
    : { defaultNamespace, prefixes, parent }
}

/**
 * A qualified name split into prefix ("" for none) and local part, or
 * `undefined` when it is not a QName (a colon first, last, or twice).
 *
 * @since 0.1.0
 * @internal
 */
export const splitQName = (name: string): readonly [prefix: string, local: string] | undefined => {
  const colon = name.indexOf(":")
  if (colon === -1) return ["", name]
  if (colon === 0 || colon === name.length - 1 || name.indexOf(":", colon + 1) !== -1) return undefined
  return [name.slice(0, colon), name.slice(colon + 1)]
}

/**
 * Checks the prefixed attributes of an element: each prefix bound, no two
 * with the same namespace and local name. Returns a message, or `undefined`.
 *
 * @since 0.1.0
 * @internal
 */
export const checkAttributes = (scope: Scope, names: ReadonlyArray<string>): string | undefined => {
  // Most elements have at most one prefixed attribute (xml:lang): no set for them.
  let first: string | undefined
  let seen: Set<string> | undefined
  for (const name of names) {
    const colon = name.indexOf(":")
    if (colon === -1 || isDeclaration(name)) continue
    const split = splitQName(name)
    if (split === undefined) return `malformed attribute name ${name}`
    const namespace = resolve(scope, split[0])
    if (namespace === undefined) return `unbound namespace prefix ${JSON.stringify(split[0])}`
    const expanded = `{${namespace}}${split[1]}`
    if (first === undefined) {
      first = expanded
      continue
    }
    if (seen === undefined) seen = new Set([first])
    if (seen.has(expanded)) return `duplicate attribute ${expanded}`
    seen.add(expanded)
  }
  return undefined
}
