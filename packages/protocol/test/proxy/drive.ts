/**
 * Test helper: runs a pure handshake against a scripted sequence of chunks
 * from the proxy and records everything the machine sent.
 */
import type { ProxyHandshake, ProxyHandshakeError } from "@xmpp-core/protocol"

export interface Driven {
  /** Every byte the client sent, concatenated, in order. */
  readonly sent: Uint8Array
  readonly outcome:
    | { readonly _tag: "Established"; readonly leftover: Uint8Array; readonly unread: ReadonlyArray<Uint8Array> }
    | { readonly _tag: "Failed"; readonly error: ProxyHandshakeError }
    | { readonly _tag: "Waiting" }
}

export const bytes = (...parts: ReadonlyArray<string | ReadonlyArray<number> | Uint8Array>): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))))

export const drive = <S>(handshake: ProxyHandshake.Handshake<S>, chunks: ReadonlyArray<Uint8Array>): Driven => {
  const sent: Array<Uint8Array> = [...handshake.output]
  let state = handshake.state
  for (let i = 0; i < chunks.length; i++) {
    const step = handshake.step(state, chunks[i] ?? new Uint8Array(0))
    switch (step._tag) {
      case "Continue":
        sent.push(...step.output)
        state = step.state
        break
      case "Established":
        sent.push(...step.output)
        return { sent: bytes(...sent), outcome: { _tag: "Established", leftover: step.leftover, unread: chunks.slice(i + 1) } }
      case "Failed":
        return { sent: bytes(...sent), outcome: { _tag: "Failed", error: step.error } }
    }
  }
  return { sent: bytes(...sent), outcome: { _tag: "Waiting" } }
}

/** Splits `data` at the given cut points (sorted, deduplicated, within range). */
export const splitAt = (data: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), data.length)))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let start = 0
  for (const p of [...points, data.length]) {
    out.push(data.subarray(start, p))
    start = p
  }
  return out
}
