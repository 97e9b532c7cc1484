/**
 * What the incremental stream parser hands out, and what stream negotiation
 * consumes. Over BOSH the transport synthesizes the same events from
 * `<body/>` wrappers, so negotiation never knows which transport it runs on.
 *
 * @since 0.1.0
 */
import type { Element } from "./Element.js"

/**
 * The stream header (`<stream:stream …>`): an element with its attributes and
 * namespace declarations but no children.
 *
 * @since 0.1.0
 */
export interface StreamOpen {
  readonly _tag: "StreamOpen"
  readonly header: Element
}

/**
 * One whole top-level child of the stream: a stanza, `<stream:features/>`,
 * a SASL element, `<stream:error/>`.
 *
 * @since 0.1.0
 */
export interface StreamElement {
  readonly _tag: "StreamElement"
  readonly element: Element
}

/**
 * `</stream:stream>`: the peer closed its stream.
 *
 * @since 0.1.0
 */
export interface StreamClose {
  readonly _tag: "StreamClose"
}

/**
 * @since 0.1.0
 */
export type XmlStreamEvent = StreamOpen | StreamElement | StreamClose

/** @since 0.1.0 */
export const streamOpen = (header: Element): StreamOpen => ({ _tag: "StreamOpen", header })
/** @since 0.1.0 */
export const streamElement = (element: Element): StreamElement => ({ _tag: "StreamElement", element })
/** @since 0.1.0 */
export const streamClose: StreamClose = { _tag: "StreamClose" }
