import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Result } from "effect"
import { Jid } from "@xmpp-core/protocol"
import type { JidError } from "@xmpp-core/protocol"

const parsed = (input: string): Jid.Jid => {
  const result = Jid.parse(input)
  if (Result.isFailure(result)) assert.fail(`${JSON.stringify(input)}: ${result.failure.reason} ${result.failure.message}`)
  return result.success
}

const failure = (input: string): JidError => {
  const result = Jid.parse(input)
  if (Result.isSuccess(result)) assert.fail(`${JSON.stringify(input)} parsed as ${Jid.format(result.success)}`)
  return result.failure
}

describe("Jid", () => {
  describe("parse and format", () => {
    it("splits local@domain/resource", () => {
      assert.deepStrictEqual(parsed("juliet@example.com/balcony"), {
        local: "juliet",
        domain: "example.com",
        resource: "balcony"
      })
    })

    it("reads bare and domain-only JIDs", () => {
      assert.deepStrictEqual(parsed("juliet@example.com"), { local: "juliet", domain: "example.com", resource: undefined })
      assert.deepStrictEqual(parsed("example.com"), { local: undefined, domain: "example.com", resource: undefined })
      assert.deepStrictEqual(parsed("example.com/x"), { local: undefined, domain: "example.com", resource: "x" })
    })

    it("the first / starts the resource, which may hold @ and / (RFC 7622 §3.1)", () => {
      assert.deepStrictEqual(parsed("juliet@example.com/foo@bar/baz"), {
        local: "juliet",
        domain: "example.com",
        resource: "foo@bar/baz"
      })
      assert.deepStrictEqual(parsed("example.com/a@b"), { local: undefined, domain: "example.com", resource: "a@b" })
    })

    it("formats back", () => {
      for (const jid of ["juliet@example.com/balcony", "example.com", "a@b", "b/c d", "x@[::1]/r"]) {
        assert.strictEqual(Jid.format(parsed(jid)), jid)
      }
    })
  })

  describe("preparation", () => {
    it("lower-cases the domain and removes one trailing dot", () => {
      assert.strictEqual(parsed("juliet@Example.COM./x").domain, "example.com")
    })

    it("lower-cases the localpart (UsernameCaseMapped) but keeps the resource's case (OpaqueString)", () => {
      const jid = parsed("Juliet@example.com/Balcony")
      assert.strictEqual(jid.local, "juliet")
      assert.strictEqual(jid.resource, "Balcony")
    })

    it("maps fullwidth characters in the localpart to their ASCII forms", () => {
      assert.strictEqual(parsed("ＪＵＬＩＥＴ@example.com").local, "juliet")
    })

    it("puts every part in NFC", () => {
      const decomposed = "e\u0301"
      const jid = parsed(`${decomposed}@caf${decomposed}.fr/r${decomposed}`)
      assert.strictEqual(jid.local, "\u00E9")
      assert.strictEqual(jid.domain, "caf\u00E9.fr")
      assert.strictEqual(jid.resource, "r\u00E9")
    })

    it("maps non-ASCII spaces in the resource to U+0020", () => {
      assert.strictEqual(parsed("a@b/x\u00A0y\u3000z").resource, "x y z")
    })

    it("accepts IP literals", () => {
      assert.strictEqual(parsed("a@192.168.0.1").domain, "192.168.0.1")
      assert.strictEqual(parsed("a@[2001:DB8::1]").domain, "[2001:db8::1]")
      assert.strictEqual(parsed("a@[::ffff:192.0.2.1]").domain, "[::ffff:192.0.2.1]")
      assert.strictEqual(parsed("a@[1:2:3:4:5:6:7:8]").domain, "[1:2:3:4:5:6:7:8]")
    })

    it("accepts internationalized domain names in Unicode", () => {
      assert.strictEqual(parsed("a@Bücher.example").domain, "bücher.example")
    })
  })

  describe("rejection", () => {
    const cases: ReadonlyArray<readonly [string, JidError["reason"], JidError["part"]]> = [
      ["", "Empty", "domainpart"],
      ["@example.com", "Empty", "localpart"],
      ["juliet@", "Empty", "domainpart"],
      ["example.com/", "Empty", "resourcepart"],
      ["juliet@.", "Empty", "domainpart"],
      ["jul iet@example.com", "ForbiddenCharacter", "localpart"],
      ["jul\"iet@example.com", "ForbiddenCharacter", "localpart"],
      ["jul&iet@example.com", "ForbiddenCharacter", "localpart"],
      ["jul'iet@example.com", "ForbiddenCharacter", "localpart"],
      ["jul:iet@example.com", "ForbiddenCharacter", "localpart"],
      ["jul<iet@example.com", "ForbiddenCharacter", "localpart"],
      ["jul>iet@example.com", "ForbiddenCharacter", "localpart"],
      ["♚@example.com", "ForbiddenCharacter", "localpart"],
      ["\u0001@example.com", "ForbiddenCharacter", "localpart"],
      ["a\u200Db@example.com", "ForbiddenCharacter", "localpart"],
      ["\uD800@example.com", "ForbiddenCharacter", "localpart"],
      ["\u00B7a@example.com", "ForbiddenCharacter", "localpart"],
      ["a@example.com/\u0007", "ForbiddenCharacter", "resourcepart"],
      ["a@example.com/a\u2028b", "ForbiddenCharacter", "resourcepart"],
      ["a@example.com/\uE000", "ForbiddenCharacter", "resourcepart"],
      ["a@exa mple.com", "InvalidDomain", "domainpart"],
      ["a@exa_mple.com", "InvalidDomain", "domainpart"],
      ["a@-example.com", "InvalidDomain", "domainpart"],
      ["a@example-.com", "InvalidDomain", "domainpart"],
      ["a@example..com", "InvalidDomain", "domainpart"],
      [`a@${"x".repeat(64)}.com`, "InvalidDomain", "domainpart"],
      ["a@[1::2::3]", "InvalidDomain", "domainpart"],
      ["a@[12345::]", "InvalidDomain", "domainpart"],
      ["a@[1:2:3:4:5:6:7:8:9]", "InvalidDomain", "domainpart"],
      ["a@[::1", "InvalidDomain", "domainpart"],
      ["a@b@c", "InvalidDomain", "domainpart"],
      ["a@exa\u2603mple.com", "ForbiddenCharacter", "domainpart"]
    ]
    for (const [input, reason, part] of cases) {
      it(`${JSON.stringify(input)} is ${reason} in the ${part}`, () => {
        const error = failure(input)
        assert.strictEqual(error._tag, "JidError")
        assert.strictEqual(error.reason, reason, error.message)
        assert.strictEqual(error.part, part)
      })
    }

    it("limits each part to 1023 bytes of UTF-8", () => {
      const labels = (bytes: number): string => {
        const parts: Array<string> = []
        let left = bytes
        while (left > 0) {
          const size = Math.min(63, left === 64 ? 62 : left)
          parts.push("a".repeat(size))
          left -= size + 1
        }
        return parts.join(".")
      }
      assert.strictEqual(labels(1023).length, 1023)
      assert.isTrue(Result.isSuccess(Jid.parse(labels(1023))))
      assert.strictEqual(failure(labels(1025)).reason, "TooLong")
      assert.isTrue(Result.isSuccess(Jid.parse(`${"é".repeat(511)}a@x`)))
      assert.deepStrictEqual([failure(`${"é".repeat(512)}@x`).reason, failure(`${"é".repeat(512)}@x`).part], [
        "TooLong",
        "localpart"
      ])
      assert.isTrue(Result.isSuccess(Jid.parse(`x/${"🎉".repeat(255)}abc`)))
      assert.strictEqual(failure(`x/${"🎉".repeat(256)}`).reason, "TooLong")
    })
  })

  describe("bare and equals", () => {
    it("bare drops the resource", () => {
      assert.strictEqual(Jid.format(Jid.bare(parsed("a@b/c"))), "a@b")
      assert.isTrue(Jid.isBare(Jid.bare(parsed("a@b/c"))))
      assert.isFalse(Jid.isBare(parsed("a@b/c")))
    })

    it("equal after preparation", () => {
      assert.isTrue(Jid.equals(parsed("Juliet@Example.com./x"), parsed("juliet@example.com/x")))
      assert.isFalse(Jid.equals(parsed("juliet@example.com/X"), parsed("juliet@example.com/x")))
      assert.isFalse(Jid.equals(parsed("juliet@example.com"), parsed("juliet@example.com/x")))
      assert.isFalse(Jid.equals(parsed("example.com"), parsed("juliet@example.com")))
    })

    it("make checks the parts like parse", () => {
      const made = Jid.make({ local: "Romeo", domain: "Example.NET", resource: "orchard" })
      if (Result.isFailure(made)) assert.fail(made.failure.message)
      assert.strictEqual(Jid.format(made.success), "romeo@example.net/orchard")
      assert.isTrue(Result.isFailure(Jid.make({ local: "a@b", domain: "example.net" })))
    })
  })

  describe("properties", () => {
    const localChar = fc.constantFrom(..."abcxyz019._-+éßжλ中ü!#$%*=?^`{|}~")
    const label = fc.tuple(
      fc.constantFrom(..."abcz09"),
      fc.string({ unit: fc.constantFrom(..."abz09-"), maxLength: 8 }),
      fc.constantFrom(..."abz09")
    ).map(([first, middle, last]) => first + middle + last)
    const domain = fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join(".")),
      fc.constantFrom("münchen.de", "例え.jp", "[::1]", "[2001:db8::8:800:200c:417a]", "127.0.0.1")
    )
    const resourceChar = fc.oneof(
      fc.constantFrom(..."aZ09 @/.:'\"&<>!é🎉世界"),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })
    )
    const canonicalJid = fc.record({
      local: fc.option(fc.string({ unit: localChar, minLength: 1, maxLength: 12 }), { nil: undefined }),
      domain,
      resource: fc.option(fc.string({ unit: resourceChar, minLength: 1, maxLength: 12 }), { nil: undefined })
    }).map(({ domain, local, resource }) =>
      (local === undefined ? "" : local + "@") + domain + (resource === undefined ? "" : "/" + resource)
    ).filter((text) => Result.isSuccess(Jid.parse(text)) && Jid.format(parsed(text)) === text)

    it("format ∘ parse is the identity on valid JIDs", () => {
      // Most generated strings are valid and already prepared; the filter only drops
      // resources whose random graphemes PRECIS refuses or maps.
      fc.assert(
        fc.property(canonicalJid, (text) => {
          assert.strictEqual(Jid.format(parsed(text)), text)
        }),
        { numRuns: 500 }
      )
    })

    it("valid JIDs built from prepared parts are all accepted", () => {
      fc.assert(
        fc.property(
          fc.string({ unit: localChar, minLength: 1, maxLength: 12 }),
          domain,
          fc.string({ unit: fc.constantFrom(..."aZ09 @/.:'\"&<>!é🎉世界"), minLength: 1, maxLength: 12 }),
          (local, domain, resource) => {
            const text = `${local}@${domain}/${resource}`
            assert.strictEqual(Jid.format(parsed(text)), text)
          }
        ),
        { numRuns: 500 }
      )
    })

    it("parse is idempotent: what it returns parses to itself", () => {
      fc.assert(
        fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (text) => {
          const first = Jid.parse(text)
          if (Result.isSuccess(first)) {
            const again = parsed(Jid.format(first.success))
            assert.isTrue(Jid.equals(again, first.success))
          }
        }),
        { numRuns: 1000 }
      )
    })

    it("parse never throws, on any string (lone surrogates included), and fails only with a JidError", () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: "binary", maxLength: 40 }),
            fc.string({ unit: fc.constantFrom("@", "/", ".", "[", "]", ":", "a", "É", "\uD800", " ", "-"), maxLength: 20 })
          ),
          (text) => {
            const result = Jid.parse(text)
            if (Result.isFailure(result)) {
              assert.strictEqual(result.failure._tag, "JidError")
              assert.include(["Empty", "TooLong", "ForbiddenCharacter", "InvalidDomain"], result.failure.reason)
            }
          }
        ),
        { numRuns: 2000 }
      )
    })
  })
})
