/**
 * UTF-8 through the WHATWG `TextEncoder`/`TextDecoder`, present in every
 * browser and in Node. They are declared here because the ES library this
 * package compiles against assumes neither a DOM nor Node.
 *
 * @since 0.1.0
 */

declare const TextEncoder: new() => { encode(input: string): Uint8Array }
declare const TextDecoder: new(label: "utf-8", options: { fatal: boolean; ignoreBOM: boolean }) => {
  decode(input: Uint8Array): string
}

const encoder = new TextEncoder()
// Strict: a malformed sequence throws instead of turning into U+FFFD; a BOM is content, not stripped.
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/**
 * Encodes a string as UTF-8. A lone surrogate becomes U+FFFD, as the WHATWG
 * encoder does; SASLprep rejects such strings before they get here.
 *
 * @since 0.1.0
 */
export const encode = (value: string): Uint8Array => encoder.encode(value)

/**
 * Decodes UTF-8 strictly: overlong forms, surrogates, code points above
 * U+10FFFF and truncated sequences give `undefined` instead of a guess.
 *
 * @since 0.1.0
 */
export const decode = (bytes: Uint8Array): string | undefined => {
  try {
    return strictDecoder.decode(bytes)
  } catch {
    return undefined
  }
}
