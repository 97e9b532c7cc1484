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
 * One chain being spent. `keys[i]` is K(i+1); `remaining` keys are still
 * secret, the next to send is `keys[remaining - 1]`.
 *
 * @since 0.1.0
 */
export interface KeyChain {
  readonly seed: Uint8Array
  readonly generation: number
  readonly keys: ReadonlyArray<string>
  readonly remaining: number
  /** Forced chain length (tests); otherwise 256 to 1279, unpredictable. */
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
  const length = fixedLength ?? 256 + ((((start[0] ?? 0) << 8) | (start[1] ?? 0)) % 1024)
  const keys: Array<string> = []
  let key = Sha1.hexOfString(Sha1.toHex(start))
  keys.push(key)
  for (let i = 1; i < length; i++) {
    key = Sha1.hexOfString(key)
    keys.push(key)
  }
  return { seed, generation, keys, remaining: length, fixedLength }
}

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
  return { chain: { ...chain, remaining: chain.remaining - 1 }, newkey: chain.keys[chain.keys.length - 1] ?? "" }
}

/**
 * The `key` (and, when the chain runs out, the `newkey` of the next chain)
 * for the next request, in `rid` order.
 *
 * @since 0.1.0
 */
export const next = (chain: KeyChain): { readonly chain: KeyChain; readonly keys: RequestKeys } => {
  const key = chain.keys[chain.remaining - 1]
  if (chain.remaining > 1) {
    // Spelled out, not spread: this runs once per request.
    const rest: KeyChain = {
      seed: chain.seed,
      generation: chain.generation,
      keys: chain.keys,
      remaining: chain.remaining - 1,
      fixedLength: chain.fixedLength
    }
    return { chain: rest, keys: { key, newkey: undefined } }
  }
  const fresh = build(chain.seed, chain.generation + 1, chain.fixedLength)
  return {
    chain: { ...fresh, remaining: fresh.remaining - 1 },
    keys: { key, newkey: fresh.keys[fresh.keys.length - 1] }
  }
}
