/**
 * An immutable XML element: the one tree type shared by the stream parser,
 * the BOSH machine, SASL and stream negotiation.
 *
 * Text is a plain `string` child. Attribute keys are qualified names exactly
 * as written (`"xml:lang"`, `"xmpp:version"`); namespace declarations for
 * prefixes (`"xmlns:stream"`) may appear among them, while the element's own
 * default namespace is the `namespace` field, never an `xmlns` attribute.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export type Node = Element | string

/**
 * @since 0.1.0
 */
export interface Element {
  /** Local name, without prefix. */
  readonly name: string
  /** Namespace URI the element is in ("" for none). */
  readonly namespace: string
  /** Prefix the element was written with, kept so `stream:features` serializes as such. */
  readonly prefix: string | undefined
  readonly attributes: Readonly<Record<string, string>>
  readonly children: ReadonlyArray<Node>
}

/**
 * @since 0.1.0
 */
export interface MakeOptions {
  readonly namespace?: string | undefined
  readonly prefix?: string | undefined
  readonly attributes?: Readonly<Record<string, string | undefined>> | undefined
  readonly children?: ReadonlyArray<Node | undefined> | undefined
}

/**
 * Builds an element. Attributes whose value is `undefined` and `undefined`
 * children are left out, which keeps optional parts easy to write.
 *
 * @since 0.1.0
 */
export const make = (name: string, options: MakeOptions = {}): Element => {
  // No prototype: an attribute named `__proto__` is data, not a prototype switch.
  const attributes: Record<string, string> = Object.create(null)
  if (options.attributes !== undefined) {
    for (const [key, value] of Object.entries(options.attributes)) {
      if (value !== undefined) attributes[key] = value
    }
  }
  const children: Array<Node> = []
  if (options.children !== undefined) {
    for (const child of options.children) {
      if (child !== undefined) children.push(child)
    }
  }
  return {
    name,
    namespace: options.namespace ?? "",
    prefix: options.prefix,
    attributes,
    children
  }
}

/**
 * @since 0.1.0
 */
export const isElement = (node: Node): node is Element => typeof node !== "string"

/**
 * The value of an attribute, by qualified name.
 *
 * @since 0.1.0
 */
export const attribute = (element: Element, name: string): string | undefined =>
  Object.hasOwn(element.attributes, name) ? element.attributes[name] : undefined

/**
 * The child elements, optionally only those with a given name (and namespace).
 *
 * @since 0.1.0
 */
export const elements = (element: Element, name?: string, namespace?: string): ReadonlyArray<Element> => {
  const out: Array<Element> = []
  for (const child of element.children) {
    if (
      typeof child !== "string" &&
      (name === undefined || child.name === name) &&
      (namespace === undefined || child.namespace === namespace)
    ) out.push(child)
  }
  return out
}

/**
 * The first child element with a given name (and namespace).
 *
 * @since 0.1.0
 */
export const child = (element: Element, name: string, namespace?: string): Element | undefined => {
  for (const node of element.children) {
    if (
      typeof node !== "string" && node.name === name &&
      (namespace === undefined || node.namespace === namespace)
    ) return node
  }
  return undefined
}

/**
 * The concatenated text directly inside an element (not of its descendants).
 *
 * @since 0.1.0
 */
export const text = (element: Element): string => {
  let out = ""
  for (const node of element.children) {
    if (typeof node === "string") out += node
  }
  return out
}

/**
 * A copy with other children.
 *
 * @since 0.1.0
 */
export const withChildren = (element: Element, children: ReadonlyArray<Node>): Element => ({ ...element, children })

/**
 * A copy with one attribute set (or removed, with `undefined`).
 *
 * @since 0.1.0
 */
export const withAttribute = (element: Element, name: string, value: string | undefined): Element => {
  const attributes: Record<string, string> = Object.assign(Object.create(null), element.attributes)
  if (value === undefined) delete attributes[name]
  else attributes[name] = value
  return { ...element, attributes }
}
