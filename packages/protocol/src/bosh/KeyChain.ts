/**
 * The key sequence of XEP-0124 §15: K(1) = hex(SHA-1(seed)), K(i) =
 * hex(SHA-1(K(i-1))); `newkey` K(n) goes out first, then `key` K(n-1) down to
 * K(1), and the request that reveals K(1) also carries the `newkey` of a fresh
 * chain.
 *
 * Randomness comes in once, as a secret seed of random bytes. Chain number g
 * starts from hex(SHA-1(seed ‖ g)); its length n is drawn from the same
 * digest. Without the secret an observer of the keys can predict neither the
 * next key of a chain (that would invert SHA-1) nor the start of the next one.
 *
 * @since 0.1.0
 */
import * as Sha1 from "./Sha1.js"

/**
 * One chain being spent, kept as digest words (five per key, `words[5i…]` is
 * K(i+1)): the chain is hashed hundreds of times at once, and only the key
 * sent with a request needs its text. `remaining` keys are still secret, the
 * next to send is K(remaining).
 *
 * @since 0.1.0
 */
export interface KeyChain {
  readonly seed: Uint8Array
  readonly generation: number
  /** Never written after the chain is built. */
  readonly words: Int32Array
  /** n, the number of keys. */
  readonly length: number
  readonly remaining: number
  /**
   * Forced chain length (tests); otherwise 64 to 127, unpredictable. Short: a chain is kept whole
   * for every idle session (at 256 to 1279 keys, 5 to 25 KiB each, most of a session's heap), and
   * a new chain costs one `newkey` per some hundred requests, hashed once.
   */
  readonly fixedLength: number | undefined
}

/**
 * The keys to put on one request.
 *
 * @since 0.1.0
 */
export interface RequestKeys {
  readonly key: string | undefined
  readonly newkey: string | undefined
}

const chainStart = (seed: Uint8Array, generation: number): Uint8Array => {
  const input = new Uint8Array(seed.length + 4)
  input.set(seed)
  new DataView(input.buffer).setUint32(seed.length, generation)
  return Sha1.digest(input)
}

const build = (seed: Uint8Array, generation: number, fixedLength: number | undefined): KeyChain => {
  const start = chainStart(seed, generation)
  const length = fixedLength ?? 64 + ((((start[0] ?? 0) << 8) | (start[1] ?? 0)) % 64)
  const startView = new DataView(start.buffer, start.byteOffset, start.byteLength)
  const startWords = new Int32Array(5)
  for (let i = 0; i < 5; i++) startWords[i] = startView.getInt32(4 * i)
  const words = new Int32Array(5 * length)
  // K(1) = hex(SHA-1(hex(start))), K(i+1) = hex(SHA-1(K(i))).
  Sha1.digestOfHexWords(startWords, 0, words, 0)
  for (let i = 1; i < length; i++) Sha1.digestOfHexWords(words, 5 * (i - 1), words, 5 * i)
  return { seed, generation, words, length, remaining: length, fixedLength }
}

/** K(i) as text. */
const keyText = (chain: KeyChain, i: number): string => Sha1.hexOfWords(chain.words, 5 * (i - 1))

const withRemaining = (chain: KeyChain, remaining: number): KeyChain => ({
  seed: chain.seed,
  generation: chain.generation,
  words: chain.words,
  length: chain.length,
  remaining,
  fixedLength: chain.fixedLength
})

/**
 * A first chain and its `newkey` for the session creation request.
 *
 * @since 0.1.0
 */
export const make = (
  seed: Uint8Array,
  fixedLength?: number
): { readonly chain: KeyChain; readonly newkey: string } => {
  const chain = build(seed, 0, fixedLength === undefined ? undefined : Math.max(2, fixedLength))
  return { chain: withRemaining(chain, chain.length - 1), newkey: keyText(chain, chain.length) }
}

/**
 * The `key` (and, when the chain runs out, the `newkey` of the next chain)
 * for the next request, in `rid` order.
 *
 * @since 0.1.0
 */
export const next = (chain: KeyChain): { readonly chain: KeyChain; readonly keys: RequestKeys } => {
  const key = keyText(chain, chain.remaining)
  if (chain.remaining > 1) return { chain: withRemaining(chain, chain.remaining - 1), keys: { key, newkey: undefined } }
  const fresh = build(chain.seed, chain.generation + 1, chain.fixedLength)
  return {
    chain: withRemaining(fresh, fresh.length - 1),
    keys: { key, newkey: keyText(fresh, fresh.length) }
  }
}
