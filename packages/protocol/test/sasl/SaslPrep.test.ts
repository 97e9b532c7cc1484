import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { SaslPrep } from "@xmpp-core/protocol"

const ok = (input: string) => Result.getOrThrow(SaslPrep.prepare(input))
const reason = (input: string, options?: SaslPrep.Options) => {
  const result = SaslPrep.prepare(input, options)
  return Result.isFailure(result) ? result.failure.reason : "ok"
}

describe("SaslPrep (RFC 4013)", () => {
  it("follows the examples of RFC 4013 §3", () => {
    assert.strictEqual(ok("I\u00ADX"), "IX")
    assert.strictEqual(ok("user"), "user")
    assert.strictEqual(ok("USER"), "USER")
    assert.strictEqual(ok("\u00AA"), "a")
    assert.strictEqual(ok("\u2168"), "IX")
    assert.strictEqual(reason("\u0007"), "prohibited-character")
    assert.strictEqual(reason("\u0627\u0031"), "bidi-violation")
  })

  it("maps non-ASCII spaces to SPACE and zero-width characters to nothing", () => {
    assert.strictEqual(ok("a\u00A0b\u3000c"), "a b c")
    assert.strictEqual(ok("pa\uFEFFss\u200Dword\uFE0F"), "password")
  })

  it("refuses control, private use, non-character, surrogate and tagging code points", () => {
    for (const bad of ["\u0000", "\u007F", "\u0085", "\uE000", "\uFDD0", "\uFFFF", "\uD800", "\u{E0041}", "\u202E", "\u{1FFFE}"]) {
      assert.strictEqual(reason(`x${bad}y`), "prohibited-character", JSON.stringify(bad))
    }
  })

  it("accepts right-to-left text that starts and ends right-to-left, refuses mixing", () => {
    assert.strictEqual(ok("\u05E9\u05DC\u05D5\u05DD"), "\u05E9\u05DC\u05D5\u05DD")
    assert.strictEqual(reason("\u05E9a\u05DD"), "bidi-violation")
    assert.strictEqual(reason("1\u05E9"), "bidi-violation")
  })

  it("refuses unassigned code points only in stored strings", () => {
    assert.strictEqual(reason("\u0378"), "ok")
    assert.strictEqual(reason("\u0378", { storedString: true }), "unassigned-code-point")
  })

  it("keeps printable ASCII as it is", () => {
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("")
    assert.strictEqual(ok(ascii), ascii)
  })
})
