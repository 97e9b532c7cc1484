/**
 * Decodes UTF-8 slice by slice and maps positions in the decoded text (UTF-16
 * code units, as saxes counts them) back to byte offsets in the input.
 *
 * Only a few positions per stanza are ever asked for (stanza start and end,
 * errors), and they only move forward within a slice, so a cursor that
 * re-encodes the text lazily keeps the cost to one pass over the text at
 * most, and to none for ASCII slices.
 *
 * @since 0.1.0
 * @internal
 */

// The WHATWG TextDecoder exists in every browser and in Node; the package
// compiles without DOM or Node types, so it names the part it uses.
declare const TextDecoder: new(label: "utf-8", options: { fatal: boolean; ignoreBOM: boolean }) => {
  decode(input?: Uint8Array, options?: { stream: boolean }): string
}

/**
 * @since 0.1.0
 * @internal
 */
export class ByteOffsets {
  private decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
  /** Bytes pushed so far. */
  private bytesIn = 0
  /** The last up-to-3 bytes pushed, to know how many the decoder still holds. */
  private tail0 = -1
  private tail1 = -1
  private tail2 = -1
  /** How many trailing input bytes the decoder holds as an incomplete character. */
  private pending = 0
  /** Code units decoded before the current slice. */
  private sliceCharStart = 0
  /** Byte offset of the current slice's first character. */
  private sliceByteStart = 0
  private sliceText = ""
  private sliceAscii = true
  /** UTF-8 length of the current slice's text. */
  private sliceBytes = 0
  private cursorIndex = 0
  private cursorByte = 0
  private charsOut = 0

  /** Bytes consumed so far. */
  get consumed(): number {
    return this.bytesIn
  }

  /** Byte offset just past the last complete character decoded. */
  get decodedEnd(): number {
    return this.bytesIn - this.pending
  }

  /**
   * Decodes one slice (in streaming mode) and makes it the current slice.
   * Returns `undefined` when the bytes are not UTF-8.
   */
  decode(bytes: Uint8Array): string | undefined {
    let text: string
    try {
      text = this.decoder.decode(bytes, { stream: true })
    } catch {
      return undefined
    }
    this.accept(bytes, text)
    return text
  }

  /**
   * After `decode` refused a slice: decodes the valid bytes before the first
   * invalid sequence as the current slice, so what precedes the bad bytes is
   * parsed exactly as with any other chunking, and says where they begin.
   */
  decodeValidPrefix(bytes: Uint8Array): { readonly text: string; readonly invalidAt: number } {
    const held = this.heldBytes()
    const joined = new Uint8Array(held.length + bytes.length)
    joined.set(held)
    joined.set(bytes, held.length)
    const sequenceStart = firstInvalidSequence(joined)
    const invalidAt = this.bytesIn - this.pending + Math.max(sequenceStart, 0)
    // The decoder threw and its state is gone: a new one, given the held bytes again.
    this.decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
    if (sequenceStart < held.length) return { text: "", invalidAt }
    const prefix = bytes.subarray(0, sequenceStart - held.length)
    let text = ""
    try {
      this.decoder.decode(held, { stream: true })
      text = this.decoder.decode(prefix, { stream: true })
    } catch {
      return { text: "", invalidAt }
    }
    this.accept(prefix, text)
    return { text, invalidAt }
  }

  /** Books a decoded slice as the current one. */
  private accept(bytes: Uint8Array, text: string): void {
    const byteStart = this.bytesIn - this.pending
    this.bytesIn += bytes.length
    this.rememberTail(bytes)
    this.pending = this.incompleteTail()
    this.sliceCharStart = this.charsOut
    this.charsOut += text.length
    this.sliceByteStart = byteStart
    this.sliceText = text
    this.sliceBytes = this.bytesIn - this.pending - byteStart
    this.sliceAscii = text.length === this.sliceBytes
    this.cursorIndex = 0
    this.cursorByte = byteStart
  }

  /** The input bytes the decoder holds as the start of an incomplete character. */
  private heldBytes(): Uint8Array {
    const last = [this.tail0, this.tail1, this.tail2].filter((byte) => byte >= 0)
    return Uint8Array.from(last.slice(last.length - this.pending))
  }

  /** Flushes the decoder at end of input; `false` when a character was cut off. */
  finish(): boolean {
    try {
      this.decoder.decode()
      return true
    } catch {
      return false
    }
  }

  /**
   * The byte offset of a code-unit position in the decoded text. Positions
   * outside the current slice are clamped to it.
   */
  byteAt(position: number): number {
    let index = position - this.sliceCharStart
    const text = this.sliceText
    if (index <= 0) return this.sliceByteStart
    if (index > text.length) index = text.length
    if (this.sliceAscii) return this.sliceByteStart + index
    if (index < this.cursorIndex) {
      this.cursorIndex = 0
      this.cursorByte = this.sliceByteStart
    }
    // Count from whichever end is nearer: the cursor, or the slice's end.
    const bytes = index - this.cursorIndex <= text.length - index
      ? this.cursorByte + utf8Length(text, this.cursorIndex, index)
      : this.sliceByteStart + this.sliceBytes - utf8Length(text, index, text.length)
    this.cursorIndex = index
    this.cursorByte = bytes
    return bytes
  }

  /**
   * The position of the first character at or after `position` in the
   * current slice that is not XML whitespace (the slice's end if none).
   */
  firstNonWhitespace(position: number): number {
    const text = this.sliceText
    let index = Math.max(position - this.sliceCharStart, 0)
    while (index < text.length) {
      const c = text.charCodeAt(index)
      if (c !== 0x20 && c !== 0x0A && c !== 0x09 && c !== 0x0D) break
      index++
    }
    return this.sliceCharStart + index
  }

  private rememberTail(bytes: Uint8Array): void {
    const n = bytes.length
    if (n >= 3) {
      this.tail0 = bytes[n - 3] ?? -1
      this.tail1 = bytes[n - 2] ?? -1
      this.tail2 = bytes[n - 1] ?? -1
    } else if (n === 2) {
      this.tail0 = this.tail2
      this.tail1 = bytes[0] ?? -1
      this.tail2 = bytes[1] ?? -1
    } else if (n === 1) {
      this.tail0 = this.tail1
      this.tail1 = this.tail2
      this.tail2 = bytes[0] ?? -1
    }
  }

  /** Number of trailing bytes that start a multi-byte character not yet complete. */
  private incompleteTail(): number {
    const last = [this.tail2, this.tail1, this.tail0]
    for (let back = 1; back <= 3; back++) {
      const byte = last[back - 1] ?? -1
      if (byte < 0) return 0
      if ((byte & 0xC0) === 0x80) continue
      const length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
      return length > back ? back : 0
    }
    return 0
  }
}

/** UTF-8 length of `text[from, to)`; the decoder never yields a lone surrogate. */
const utf8Length = (text: string, from: number, to: number): number => {
  let bytes = 0
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i)
    // A surrogate pair is 4 bytes: 2 counted here for each half.
    bytes += code < 0x80 ? 1 : code < 0x800 || (code >= 0xD800 && code <= 0xDFFF) ? 2 : 3
  }
  return bytes
}

/**
 * Index of the first byte of the first invalid UTF-8 sequence (per the WHATWG
 * decoder: overlong forms, surrogates and values past U+10FFFF are invalid),
 * or -1 when there is none (an incomplete sequence at the end is not one).
 */
const firstInvalidSequence = (bytes: Uint8Array): number => {
  let needed = 0
  let seen = 0
  let lower = 0x80
  let upper = 0xBF
  let start = 0
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0
    if (needed === 0) {
      if (byte <= 0x7F) continue
      start = i
      if (byte >= 0xC2 && byte <= 0xDF) needed = 1
      else if (byte >= 0xE0 && byte <= 0xEF) {
        if (byte === 0xE0) lower = 0xA0
        if (byte === 0xED) upper = 0x9F
        needed = 2
      } else if (byte >= 0xF0 && byte <= 0xF4) {
        if (byte === 0xF0) lower = 0x90
        if (byte === 0xF4) upper = 0x8F
        needed = 3
      } else return i
      continue
    }
    if (byte < lower || byte > upper) return start
    lower = 0x80
    upper = 0xBF
    if (++seen === needed) {
      needed = 0
      seen = 0
    }
  }
  return -1
}
