/**
 * UTF-8 without `TextEncoder`/`TextDecoder`, which are not part of the
 * ES library this package is compiled against (it must not assume a DOM or
 * Node). What it encodes is short (SASL payloads, proxy handshakes, BOSH
 * keys), so a plain loop is enough; the one UTF-8 encoder of the package.
 *
 * @since 0.1.0
 */

/**
 * Encodes a string as UTF-8. A lone surrogate becomes U+FFFD, as the WHATWG
 * encoder does; SASLprep rejects such strings before they get here.
 *
 * @since 0.1.0
 */
export const encode = (value: string): Uint8Array => {
  const out: Array<number> = []
  for (const char of value) {
    let cp = char.codePointAt(0) ?? 0xfffd
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd
    if (cp < 0x80) out.push(cp)
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f))
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    else {
      out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    }
  }
  return Uint8Array.from(out)
}

/**
 * Decodes UTF-8 strictly: overlong forms, surrogates, code points above
 * U+10FFFF and truncated sequences give `undefined` instead of a guess.
 *
 * @since 0.1.0
 */
export const decode = (bytes: Uint8Array): string | undefined => {
  let out = ""
  let i = 0
  while (i < bytes.length) {
    const b0 = bytes[i] ?? 0
    let cp: number
    let need: number
    let min: number
    if (b0 < 0x80) {
      cp = b0
      need = 0
      min = 0
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      cp = b0 & 0x1f
      need = 1
      min = 0x80
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      cp = b0 & 0x0f
      need = 2
      min = 0x800
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      cp = b0 & 0x07
      need = 3
      min = 0x10000
    } else return undefined
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k]
      if (b === undefined || (b & 0xc0) !== 0x80) return undefined
      cp = (cp << 6) | (b & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined
    out += String.fromCodePoint(cp)
    i += need + 1
  }
  return out
}
