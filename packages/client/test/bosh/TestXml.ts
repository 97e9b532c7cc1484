/**
 * A small XML-to-Element reader for tests, on saxes, standing in for the
 * project's `BodyParser.parseBody` (same signature) until that lands here.
 */
import { Element, XmlError } from "@xmpp-core/protocol"
import { Result } from "effect"
import { SaxesParser } from "saxes"

export const parse = (text: string): Result.Result<Element.Element, XmlError> => {
  const parser = new SaxesParser({ xmlns: true })
  const stack: Array<{ name: string; namespace: string; prefix: string | undefined; attributes: Record<string, string>; children: Array<Element.Node> }> = []
  let root: Element.Element | undefined
  let failure: string | undefined
  parser.on("error", (error) => {
    failure = error.message
  })
  parser.on("opentag", (tag) => {
    const attributes: Record<string, string> = {}
    for (const [name, attribute] of Object.entries(tag.attributes)) {
      if (name !== "xmlns") attributes[name] = attribute.value
    }
    stack.push({
      name: tag.local,
      namespace: tag.uri,
      prefix: tag.prefix === "" ? undefined : tag.prefix,
      attributes,
      children: []
    })
  })
  parser.on("text", (text) => {
    const top = stack[stack.length - 1]
    if (top !== undefined && stack.length > 1) top.children.push(text)
  })
  parser.on("closetag", () => {
    const done = stack.pop()
    if (done === undefined) return
    const element: Element.Element = done
    const parent = stack[stack.length - 1]
    if (parent === undefined) root = element
    else parent.children.push(element)
  })
  try {
    parser.write(text).close()
  } catch (error) {
    failure = String(error)
  }
  return root === undefined || failure !== undefined
    ? Result.fail(new XmlError({ reason: "Malformed", message: failure ?? "no root element", offset: -1 }))
    : Result.succeed(root)
}

const decoder = new TextDecoder()

export const parseBody = (bytes: Uint8Array): Result.Result<Element.Element, XmlError> => parse(decoder.decode(bytes))
