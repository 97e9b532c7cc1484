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

// UTF-8 by hand: the protocol package is built without DOM or Node typings.
const utf8 = (input: string): Uint8Array => {
  const out: Array<number> = []
  for (const char of input) {
    const code = char.codePointAt(0) ?? 0
    if (code < 0x80) out.push(code)
    else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 63))
    else if (code < 0x10000) out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63))
    else {
      out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63))
    }
  }
  return Uint8Array.from(out)
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

  let h0 = 0x67452301
  let h1 = 0xefcdab89
  let h2 = 0x98badcfe
  let h3 = 0x10325476
  let h4 = 0xc3d2e1f0
  const w = new Int32Array(80)
  for (let offset = 0; offset < paddedLength; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(offset + i * 4)
    for (let i = 16; i < 80; i++) {
      const x = (w[i - 3] ?? 0) ^ (w[i - 8] ?? 0) ^ (w[i - 14] ?? 0) ^ (w[i - 16] ?? 0)
      w[i] = (x << 1) | (x >>> 31)
    }
    let a = h0
    let b = h1
    let c = h2
    let d = h3
    let e = h4
    for (let i = 0; i < 80; i++) {
      let f: number
      let k: number
      if (i < 20) {
        f = (b & c) | (~b & d)
        k = 0x5a827999
      } else if (i < 40) {
        f = b ^ c ^ d
        k = 0x6ed9eba1
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d)
        k = 0x8f1bbcdc
      } else {
        f = b ^ c ^ d
        k = 0xca62c1d6
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + (w[i] ?? 0)) | 0
      e = d
      d = c
      c = (b << 30) | (b >>> 2)
      b = a
      a = t
    }
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
  }
  const out = new Uint8Array(20)
  const outView = new DataView(out.buffer)
  outView.setInt32(0, h0)
  outView.setInt32(4, h1)
  outView.setInt32(8, h2)
  outView.setInt32(12, h3)
  outView.setInt32(16, h4)
  return out
}

/**
 * Lower-case hexadecimal of some bytes.
 *
 * @since 0.1.0
 */
export const toHex = (bytes: Uint8Array): string => {
  let out = ""
  for (const byte of bytes) out += (byte < 16 ? "0" : "") + byte.toString(16)
  return out
}

/**
 * The SHA-1 of a string's UTF-8 bytes, as 40 lower-case hex digits: the
 * `hex(SHA-1(…))` of XEP-0124 §15.
 *
 * @since 0.1.0
 */
export const hexOfString = (input: string): string => toHex(digest(utf8(input)))
