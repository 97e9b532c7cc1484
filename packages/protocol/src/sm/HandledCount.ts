/**
 * XEP-0198 handled counts: unsigned 32-bit integers that wrap to 0 after
 * 2^32 - 1 (§4), so every comparison is a distance modulo 2^32.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export const MODULUS = 2 ** 32

/**
 * `count` plus `n`, wrapped.
 *
 * @since 0.1.0
 */
export const add = (count: number, n: number): number => (count + n) % MODULUS

/**
 * How many steps forward from `from` to `to` (0 to 2^32 - 1).
 *
 * @since 0.1.0
 */
export const distance = (from: number, to: number): number => (((to - from) % MODULUS) + MODULUS) % MODULUS

/**
 * Reads an `h` attribute: a decimal unsigned 32-bit integer, or nothing.
 *
 * @since 0.1.0
 */
export const parse = (text: string | undefined): number | undefined => {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined
  const value = Number(text)
  return value < MODULUS ? value : undefined
}
