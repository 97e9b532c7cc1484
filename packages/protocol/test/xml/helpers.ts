/**
 * Small helpers shared by the XML tests.
 */
import { Result } from "effect"
import type { XmlError, XmlLimits, XmlStreamEvent } from "@xmpp-core/protocol"
import { XmlStreamParser } from "@xmpp-core/protocol"

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

export const STREAM_HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "from='example.org' id='s1' version='1.0'>"

export interface Outcome {
  readonly events: ReadonlyArray<XmlStreamEvent.XmlStreamEvent>
  readonly error: XmlError | undefined
}

/** Feeds the chunks, then `end()` when `end` is set; collects events until the first error. */
export const run = (
  chunks: ReadonlyArray<Uint8Array>,
  options: { readonly end?: boolean; readonly limits?: Partial<XmlLimits.XmlLimits> } = {}
): Outcome => {
  const parser = XmlStreamParser.make(options.limits)
  const events: Array<XmlStreamEvent.XmlStreamEvent> = []
  for (const chunk of chunks) {
    const result = parser.push(chunk)
    if (Result.isFailure(result)) return { events, error: result.failure }
    events.push(...result.success)
  }
  if (options.end === true) {
    const result = parser.end()
    if (Result.isFailure(result)) return { events, error: result.failure }
    events.push(...result.success)
  }
  return { events, error: undefined }
}

/** The input split into chunks at the given byte offsets. */
export const splitAt = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((cut) => Math.min(Math.max(cut, 0), bytes.length)))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let start = 0
  for (const point of points) {
    chunks.push(bytes.subarray(start, point))
    start = point
  }
  chunks.push(bytes.subarray(start))
  return chunks
}

/** One byte per chunk. */
export const byteByByte = (bytes: Uint8Array): Array<Uint8Array> =>
  Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
