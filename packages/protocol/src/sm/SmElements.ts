/**
 * The XEP-0198 elements the client writes and reads (`urn:xmpp:sm:3`).
 *
 * @since 0.1.0
 */
import * as Element from "../xml/Element.js"
import { STREAM_MANAGEMENT } from "../xml/Namespaces.js"
import * as HandledCount from "./HandledCount.js"

const sm = (name: string, attributes: Record<string, string> = {}) =>
  Element.make(name, { namespace: STREAM_MANAGEMENT, attributes })

/**
 * `<enable/>`, asking for resumption (and a `max` in seconds) when wanted.
 *
 * @since 0.1.0
 */
export const enable = (options: { readonly resume: boolean; readonly max?: number | undefined }): Element.Element =>
  sm("enable", {
    ...(options.resume ? { resume: "true" } : {}),
    ...(options.resume && options.max !== undefined ? { max: String(options.max) } : {})
  })

/** @since 0.1.0 */
export const request: Element.Element = sm("r")

/** @since 0.1.0 */
export const answer = (h: number): Element.Element => sm("a", { h: String(h) })

/** @since 0.1.0 */
export const resume = (previd: string, h: number): Element.Element => sm("resume", { previd, h: String(h) })

/**
 * What the server said, as far as stream management is concerned.
 *
 * @since 0.1.0
 */
export type ServerElement =
  | { readonly _tag: "Enabled"; readonly id: string | undefined; readonly resume: boolean; readonly max: number | undefined; readonly location: string | undefined }
  | { readonly _tag: "Failed"; readonly h: number | undefined; readonly condition: string | undefined }
  | { readonly _tag: "Resumed"; readonly h: number; readonly previd: string }
  | { readonly _tag: "Request" }
  | { readonly _tag: "Answer"; readonly h: number }
  | { readonly _tag: "Malformed"; readonly message: string }

const isTrue = (value: string | undefined) => value === "true" || value === "1"

/**
 * Reads a stream-management element; `undefined` for any other element.
 *
 * @since 0.1.0
 */
export const read = (element: Element.Element): ServerElement | undefined => {
  if (element.namespace !== STREAM_MANAGEMENT) return undefined
  switch (element.name) {
    case "enabled": {
      const max = HandledCount.parse(Element.attribute(element, "max"))
      return {
        _tag: "Enabled",
        id: Element.attribute(element, "id"),
        resume: isTrue(Element.attribute(element, "resume")),
        max,
        location: Element.attribute(element, "location")
      }
    }
    case "failed":
      return {
        _tag: "Failed",
        h: HandledCount.parse(Element.attribute(element, "h")),
        condition: Element.elements(element)[0]?.name
      }
    case "resumed": {
      const h = HandledCount.parse(Element.attribute(element, "h"))
      const previd = Element.attribute(element, "previd")
      if (h === undefined || previd === undefined) return { _tag: "Malformed", message: "<resumed/> without a valid h and previd" }
      return { _tag: "Resumed", h, previd }
    }
    case "r":
      return { _tag: "Request" }
    case "a": {
      const h = HandledCount.parse(Element.attribute(element, "h"))
      return h === undefined ? { _tag: "Malformed", message: "<a/> without a valid h" } : { _tag: "Answer", h }
    }
  }
  return undefined
}
