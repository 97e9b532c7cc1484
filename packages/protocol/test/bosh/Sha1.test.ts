import { BoshKeyChain } from "@xmpp-core/protocol"
import * as Sha1 from "../../src/bosh/Sha1.js"
import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import * as fc from "fast-check"

describe("Sha1", () => {
  // RFC 3174 §7.3 test vectors (and the empty string).
  const vectors: ReadonlyArray<readonly [string, string]> = [
    ["abc", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    [
      Array.from({ length: 14 }, (_, i) => "abcdefghijklmnopq".slice(i, i + 4)).join(""),
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    ],
    ["", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["a".repeat(1_000_000), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"],
    ["0123456701234567012345670123456701234567012345670123456701234567".repeat(10),
      "dea356a2cddd90c7a7ecedc5ebb563934f460452"]
  ]
  for (const [input, expected] of vectors) {
    it(`hashes ${JSON.stringify(input.slice(0, 20))}… (${input.length} chars)`, () => {
      assert.strictEqual(Sha1.hexOfString(input), expected)
    })
  }

  it("agrees with Node's SHA-1 on any string, across the one-block fast path and the general path", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (input) => {
        const expected = createHash("sha1").update(input, "utf8").digest("hex")
        assert.strictEqual(Sha1.hexOfString(input), expected)
        assert.strictEqual(Sha1.toHex(Sha1.digest(new Uint8Array(Buffer.from(input, "utf8")))), expected)
      }),
      { numRuns: 500 }
    )
  })

  it("isHexOf accepts exactly the digest's lower-case hex, on both paths", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 80 }),
        fc.integer({ min: 0, max: 39 }),
        fc.constantFrom("flip", "upper", "short", "long"),
        (input, at, change) => {
          const hex = createHash("sha1").update(input, "utf8").digest("hex")
          assert.isTrue(Sha1.isHexOf(input, hex))
          const digit = hex[at] ?? "0"
          const altered = change === "flip"
            ? hex.slice(0, at) + (digit === "0" ? "1" : "0") + hex.slice(at + 1)
            : change === "upper"
            ? hex.toUpperCase() === hex ? hex + "0" : hex.toUpperCase()
            : change === "short"
            ? hex.slice(0, 39)
            : hex + "0"
          assert.isFalse(Sha1.isHexOf(input, altered))
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe("Sha1 on digest words (the key chain's path)", () => {
  it("digestOfHexWords(D) is hexOfString(hex(D)), hexOfWords is the hex text", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 5, maxLength: 5 }), (digest) => {
        const from = Int32Array.from(digest)
        const hex = Sha1.hexOfWords(from, 0)
        assert.strictEqual(hex, digest.map((word) => (word >>> 0).toString(16).padStart(8, "0")).join(""))
        const to = new Int32Array(7)
        Sha1.digestOfHexWords(from, 0, to, 2)
        assert.strictEqual(Sha1.hexOfWords(to, 2), createHash("sha1").update(hex, "utf8").digest("hex"))
      }),
      { numRuns: 500 }
    )
  })
})

describe("KeyChain (XEP-0124 §15)", () => {
  const seed = new Uint8Array(16).fill(9)

  it("each key hashes to the one sent before it, across chain switches", () => {
    const { chain, newkey } = BoshKeyChain.make(seed, 3)
    let previous = newkey
    let current = chain
    let switches = 0
    for (let i = 0; i < 20; i++) {
      const next = BoshKeyChain.next(current)
      assert.isDefined(next.keys.key)
      assert.strictEqual(Sha1.hexOfString(next.keys.key ?? ""), previous)
      if (next.keys.newkey !== undefined) switches++
      previous = next.keys.newkey ?? next.keys.key ?? ""
      current = next.chain
    }
    // A chain of 3 gives newkey K(3), then K(2), K(1): a switch every 2 requests.
    assert.strictEqual(switches, 10)
  })

  it("a new chain is announced with the request that reveals K(1), never after", () => {
    const { chain } = BoshKeyChain.make(seed, 4)
    const a = BoshKeyChain.next(chain)
    const b = BoshKeyChain.next(a.chain)
    const c = BoshKeyChain.next(b.chain)
    assert.isUndefined(a.keys.newkey)
    assert.isUndefined(b.keys.newkey)
    assert.isDefined(c.keys.newkey)
    // K(1) = hex(SHA-1(start)): its own hash is K(2), the key before it.
    assert.strictEqual(Sha1.hexOfString(c.keys.key ?? ""), b.keys.key)
  })

  it("different seeds give unrelated chains; an unforced chain is 64 to 127 keys long", () => {
    const one = BoshKeyChain.make(seed)
    const two = BoshKeyChain.make(new Uint8Array(16).fill(10))
    assert.notStrictEqual(one.newkey, two.newkey)
    assert.isAtLeast(one.chain.length, 64)
    assert.isAtMost(one.chain.length, 127)
  })
})
