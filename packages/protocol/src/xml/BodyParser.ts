/**
 * Parses one whole BOSH `<body/>` document (XEP-0124) into an element.
 *
 * It runs the stream parser's machinery with `<body/>` as the root, so the
 * same restricted-XML rules and limits apply, each child counting as a
 * stanza. Children that declare no namespace of their own are in
 * `jabber:client` (XEP-0206 §6): Openfire sends `<message/>` that way, and
 * ejabberd sends `<stream:features/>` with `xmlns:stream` declared on the body
 * and its own children without `xmlns`.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import type { Element, Node } from "./Element.js"
import { HTTP_BIND, JABBER_CLIENT } from "./Namespaces.js"
import { XmlError } from "./XmlError.js"
import type { XmlLimits } from "./XmlLimits.js"
import * as XmlStreamParser from "./XmlStreamParser.js"

const bodyRoot: XmlStreamParser.RootOptions = {
  name: "body",
  namespace: HTTP_BIND,
  childDefaultNamespace: JABBER_CLIENT
}

/**
 * The `<body/>` element with its attributes and children. A root that is not
 * `body` is `UnexpectedElement`; a `body` outside
 * `http://jabber.org/protocol/httpbind` is `UnexpectedNamespace`.
 *
 * @since 0.1.0
 */
export const parseBody = (bytes: Uint8Array, limits?: Partial<XmlLimits>): Result.Result<Element, XmlError> => {
  const parser = XmlStreamParser.makeWithRoot(bodyRoot, limits)
  const pushed = parser.push(bytes)
  if (Result.isFailure(pushed)) return Result.fail(pushed.failure)
  const ended = parser.end()
  if (Result.isFailure(ended)) return Result.fail(ended.failure)
  let body: Element | undefined
  const children: Array<Node> = []
  for (const event of [...pushed.success, ...ended.success]) {
    switch (event._tag) {
      case "StreamOpen":
        body = event.header
        break
      case "StreamElement":
        children.push(event.element)
        break
      case "StreamClose":
        break
    }
  }
  // `end` succeeds only after the root closed, so the root was seen.
  if (body === undefined) {
    return Result.fail(new XmlError({ reason: "Malformed", message: "no <body/> element", offset: 0 }))
  }
  return Result.succeed({ ...body, children })
}
