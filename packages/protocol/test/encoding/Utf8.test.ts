/**
 * UTF-8 as SASL and the proxy handshakes need it: exact encoding, and a
 * decoder that refuses malformed input instead of guessing.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Utf8 from "../../src/encoding/Utf8.js"

describe("Utf8", () => {
  it("encodes one to four bytes per code point; a lone surrogate becomes U+FFFD", () => {
    assert.deepStrictEqual([...Utf8.encode("a\u00e9\u20ac\u{1f600}")], [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80])
    assert.deepStrictEqual([...Utf8.encode("\ud800")], [0xef, 0xbf, 0xbd])
  })

  it("decodes what it encodes, a leading BOM included", () => {
    for (const text of ["", "pencil", "\u00e9t\u00e9", "\ufeffBOM", "\u{10ffff}"]) assert.strictEqual(Utf8.decode(Utf8.encode(text)), text)
  })

  it("refuses overlong forms, surrogates, code points above U+10FFFF and truncated sequences", () => {
    const malformed = [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xff]]
    for (const bytes of malformed) assert.isUndefined(Utf8.decode(Uint8Array.from(bytes)), bytes.join(","))
  })
})
