/**
 * SHA-1 (RFC 3174), pure and synchronous, for the BOSH key chain (XEP-0124 §15).
 *
 * Why our own: the session machine must stay pure and synchronous, and it has
 * to start a fresh key chain in the middle of a step when the old one runs
 * out. Effect's `Digest` is asynchronous and lives behind a service, so using
 * it would force the driver to precompute every future chain. SHA-1 is small,
 * fully specified and checked here against the RFC's vectors. It is used only
 * as the XEP prescribes, never for anything that needs collision resistance.
 *
 * @since 0.1.0
 */
import * as Utf8 from "../encoding/Utf8.js"

// Scratch space for the message schedule; never observable from outside a call.
const schedule = new Int32Array(80)
const state = new Int32Array(5)

const compress = (w: Int32Array, h: Int32Array): void => {
  for (let i = 16; i < 80; i++) {
    const x = (w[i - 3] ?? 0) ^ (w[i - 8] ?? 0) ^ (w[i - 14] ?? 0) ^ (w[i - 16] ?? 0)
    w[i] = (x << 1) | (x >>> 31)
  }
  let a = h[0] ?? 0
  let b = h[1] ?? 0
  let c = h[2] ?? 0
  let d = h[3] ?? 0
  let e = h[4] ?? 0
  // Four rounds of twenty, unrolled by round so the loop bodies stay branch-free.
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + (w[i] ?? 0)) | 0
    e = d
    d = c
    c = (b << 30) | (b >>> 2)
    b = a
    a = t
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + (w[i] ?? 0)) | 0
    e = d
    d = c
    c = (b << 30) | (b >>> 2)
    b = a
    a = t
  }
  for (let i = 40; i < 60; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + (w[i] ?? 0)) | 0
    e = d
    d = c
    c = (b << 30) | (b >>> 2)
    b = a
    a = t
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + (w[i] ?? 0)) | 0
    e = d
    d = c
    c = (b << 30) | (b >>> 2)
    b = a
    a = t
  }
  h[0] = ((h[0] ?? 0) + a) | 0
  h[1] = ((h[1] ?? 0) + b) | 0
  h[2] = ((h[2] ?? 0) + c) | 0
  h[3] = ((h[3] ?? 0) + d) | 0
  h[4] = ((h[4] ?? 0) + e) | 0
}

const initialize = (h: Int32Array): void => {
  h[0] = 0x67452301
  h[1] = 0xefcdab89 | 0
  h[2] = 0x98badcfe | 0
  h[3] = 0x10325476
  h[4] = 0xc3d2e1f0 | 0
}

/**
 * The SHA-1 digest of some bytes (20 bytes).
 *
 * @since 0.1.0
 */
export const digest = (input: Uint8Array): Uint8Array => {
  const bitLength = input.length * 8
  // message + 0x80 + zero padding + 64-bit length, a multiple of 64 bytes
  const paddedLength = ((input.length + 9 + 63) >>> 6) << 6
  const block = new Uint8Array(paddedLength)
  block.set(input)
  block[input.length] = 0x80
  const view = new DataView(block.buffer)
  view.setUint32(paddedLength - 8, Math.floor(bitLength / 0x100000000))
  view.setUint32(paddedLength - 4, bitLength >>> 0)
  initialize(state)
  for (let offset = 0; offset < paddedLength; offset += 64) {
    for (let i = 0; i < 16; i++) schedule[i] = view.getInt32(offset + i * 4)
    compress(schedule, state)
  }
  const out = new Uint8Array(20)
  const outView = new DataView(out.buffer)
  for (let i = 0; i < 5; i++) outView.setInt32(i * 4, state[i] ?? 0)
  return out
}

const hexDigits = "0123456789abcdef"
const byteHex: ReadonlyArray<string> = Array.from({ length: 256 }, (_, b) => (hexDigits[b >> 4] ?? "") + (hexDigits[b & 15] ?? ""))

/**
 * Lower-case hexadecimal of some bytes.
 *
 * @since 0.1.0
 */
export const toHex = (bytes: Uint8Array): string => {
  let out = ""
  for (const byte of bytes) out += byteHex[byte] ?? ""
  return out
}

// The schedule of the one-block fast path: reused, never observable from outside a call.
const block = new Int32Array(80)

/** The char code of the lower-case hex digit of `word`'s nibble at bit `shift`. */
const hexCode = (word: number, shift: number): number => {
  const nibble = (word >>> shift) & 15
  return nibble < 10 ? 48 + nibble : 87 + nibble
}

/** Eight hex digits of a state word, made in one call. */
const wordHex = (word: number): string =>
  String.fromCharCode(
    hexCode(word, 28),
    hexCode(word, 24),
    hexCode(word, 20),
    hexCode(word, 16),
    hexCode(word, 12),
    hexCode(word, 8),
    hexCode(word, 4),
    hexCode(word, 0)
  )

/**
 * The one-block case, for what the key chain hashes: at most 55 ASCII
 * characters (the hex keys are 40). The characters go straight into the
 * big-endian words of the block, no byte array in between, and the digest is
 * left in `state`. False when the input does not fit.
 */
const digestShortAscii = (input: string): boolean => {
  const length = input.length
  if (length > 55) return false
  block.fill(0, 0, 16)
  // Four characters to a big-endian word; any code above 0x7f sets a bit in `high`.
  let high = 0
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    const a = input.charCodeAt(i)
    const b = input.charCodeAt(i + 1)
    const c = input.charCodeAt(i + 2)
    const d = input.charCodeAt(i + 3)
    high |= a | b | c | d
    block[i >> 2] = (a << 24) | (b << 16) | (c << 8) | d
  }
  let word = 0
  for (let i = whole; i < length; i++) {
    const code = input.charCodeAt(i)
    high |= code
    word |= code << (24 - 8 * (i & 3))
  }
  if (high > 0x7f) return false
  block[length >> 2] = word | (0x80 << (24 - 8 * (length & 3)))
  block[15] = length * 8
  initialize(state)
  compress(block, state)
  return true
}

/**
 * The SHA-1 of a string's UTF-8 bytes, as 40 lower-case hex digits: the
 * `hex(SHA-1(…))` of XEP-0124 §15.
 *
 * @since 0.1.0
 */
export const hexOfString = (input: string): string =>
  digestShortAscii(input)
    ? wordHex(state[0] ?? 0) + wordHex(state[1] ?? 0) + wordHex(state[2] ?? 0) + wordHex(state[3] ?? 0) +
      wordHex(state[4] ?? 0)
    : toHex(digest(Utf8.encode(input)))

/**
 * Whether `hex` is `hexOfString(input)`, without making the digest's string:
 * what a connection manager checks for every §15 `key` (the hash of the key
 * must be the previous key).
 *
 * @since 0.1.0
 */
export const isHexOf = (input: string, hex: string): boolean => {
  if (hex.length !== 40) return false
  if (!digestShortAscii(input)) return hexOfString(input) === hex
  // Eight digits against each state word: the value they spell, or a mismatch for a non-digit.
  for (let w = 0; w < 5; w++) {
    let value = 0
    for (let i = 8 * w; i < 8 * w + 8; i++) {
      const code = hex.charCodeAt(i)
      const nibble = code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 102 ? code - 87 : -1
      if (nibble < 0) return false
      value = (value << 4) | nibble
    }
    if (value !== (state[w] ?? 0)) return false
  }
  return true
}

/** Four hex digit codes of the 16-bit half of `word` at bit `shift` (16 or 0), packed big-endian. */
const halfHexWord = (word: number, shift: number): number =>
  (hexCode(word, shift + 12) << 24) | (hexCode(word, shift + 8) << 16) | (hexCode(word, shift + 4) << 8) |
  hexCode(word, shift)

/**
 * `hex(SHA-1(hex(D)))` without strings, for a key chain: `D` is the five
 * words of a digest at `from[fromOffset…]`, its 40 hex digits go straight
 * into the block, and the five words of the result go to `to[toOffset…]`.
 * The same value as `hexOfString` of `D`'s hex text, as words.
 *
 * @since 0.1.0
 */
export const digestOfHexWords = (from: Int32Array, fromOffset: number, to: Int32Array, toOffset: number): void => {
  for (let i = 0; i < 5; i++) {
    const word = from[fromOffset + i] ?? 0
    block[2 * i] = halfHexWord(word, 16)
    block[2 * i + 1] = halfHexWord(word, 0)
  }
  // 40 bytes of text: the padding bit right after, the length (320 bits) at the end.
  block[10] = 0x80000000 | 0
  block[11] = 0
  block[12] = 0
  block[13] = 0
  block[14] = 0
  block[15] = 320
  initialize(state)
  compress(block, state)
  for (let i = 0; i < 5; i++) to[toOffset + i] = state[i] ?? 0
}

/**
 * The 40 lower-case hex digits of the five digest words at `words[offset…]`,
 * made in one call: a flat string, not a rope of five pieces that the
 * manager's check and the next hash would each have to flatten first.
 *
 * @since 0.1.0
 */
export const hexOfWords = (words: Int32Array, offset: number): string => {
  const a = words[offset] ?? 0
  const b = words[offset + 1] ?? 0
  const c = words[offset + 2] ?? 0
  const d = words[offset + 3] ?? 0
  const e = words[offset + 4] ?? 0
  return String.fromCharCode(
    hexCode(a, 28), hexCode(a, 24), hexCode(a, 20), hexCode(a, 16), hexCode(a, 12), hexCode(a, 8), hexCode(a, 4), hexCode(a, 0),
    hexCode(b, 28), hexCode(b, 24), hexCode(b, 20), hexCode(b, 16), hexCode(b, 12), hexCode(b, 8), hexCode(b, 4), hexCode(b, 0),
    hexCode(c, 28), hexCode(c, 24), hexCode(c, 20), hexCode(c, 16), hexCode(c, 12), hexCode(c, 8), hexCode(c, 4), hexCode(c, 0),
    hexCode(d, 28), hexCode(d, 24), hexCode(d, 20), hexCode(d, 16), hexCode(d, 12), hexCode(d, 8), hexCode(d, 4), hexCode(d, 0),
    hexCode(e, 28), hexCode(e, 24), hexCode(e, 20), hexCode(e, 16), hexCode(e, 12), hexCode(e, 8), hexCode(e, 4), hexCode(e, 0)
  )
}
