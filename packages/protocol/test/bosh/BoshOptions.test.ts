import { BoshOptions, BoshSession } from "@xmpp-core/protocol"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"

const decoded = (input: unknown): BoshOptions.Settings => {
  const result = BoshOptions.decode(input)
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

const refused = (input: unknown): boolean => {
  const result = BoshOptions.decode(input)
  return Result.isFailure(result) && result.failure.reason === "invalid-options"
}

describe("BoshOptions (Schema)", () => {
  it("decodes good options, keeping what was given", () => {
    const settings = decoded({ to: "localhost", wait: 30, hold: 2, route: "xmpp:localhost:5222" })
    assert.strictEqual(settings.route, "xmpp:localhost:5222")
    assert.strictEqual(settings.wait, 30)
    assert.strictEqual(settings.hold, 2)
  })

  it("applies every default, for an absent field and for an undefined one alike", () => {
    const expected: BoshOptions.Settings = { to: "localhost", ...BoshOptions.defaults }
    assert.deepStrictEqual({ ...decoded({ to: "localhost" }) }, expected)
    assert.deepStrictEqual({ ...decoded({ to: "localhost", wait: undefined, hold: undefined }) }, expected)
    // The defaults the rest of the project relies on.
    assert.strictEqual(BoshOptions.defaults.wait, 60)
    assert.strictEqual(BoshOptions.defaults.hold, 1)
    assert.strictEqual(BoshOptions.defaults.requestTimeoutMs, 10_000)
  })

  it("resolve applies the same defaults as decode, and checks no bound", () => {
    assert.deepStrictEqual({ ...BoshOptions.resolve({ to: "localhost" }) }, { ...decoded({ to: "localhost" }) })
    const unchecked = BoshOptions.resolve({ to: "", wait: 0, maxBodyChars: 10, keyChainLength: 1 })
    assert.strictEqual(unchecked.to, "")
    assert.strictEqual(unchecked.wait, 0)
    assert.strictEqual(unchecked.maxBodyChars, 10)
    assert.strictEqual(unchecked.keyChainLength, 1)
    assert.strictEqual(unchecked.hold, 1)
  })

  it("the session creation request carries the defaults", () => {
    const started = BoshSession.make({ to: "localhost" }, { rid: new Uint8Array(6), keySeed: new Uint8Array(16) }, 0)
    const request = started.actions[0]
    assert.strictEqual(request?._tag, "Request")
    if (request?._tag !== "Request") return
    assert.strictEqual(request.attributes.wait, "60")
    assert.strictEqual(request.attributes.hold, "1")
    assert.strictEqual(request.attributes.ver, "1.11")
    assert.strictEqual(request.attributes["xml:lang"], "en")
    assert.strictEqual(request.attributes.content, "text/xml; charset=utf-8")
    assert.strictEqual(request.attributes.ack, "1")
  })

  it("takes the bounds XEP-0124 allows: wait 1 to 32,767 (xs:short), hold 0 to 127 (xs:byte)", () => {
    for (const wait of [1, 60, 3601, 32_767]) assert.isFalse(refused({ to: "localhost", wait }), `wait ${wait}`)
    for (const wait of [0, 32_768, 1.5]) assert.isTrue(refused({ to: "localhost", wait }), `wait ${wait}`)
    for (const hold of [0, 1, 17, 127]) assert.isFalse(refused({ to: "localhost", hold }), `hold ${hold}`)
    for (const hold of [-1, 128]) assert.isTrue(refused({ to: "localhost", hold }), `hold ${hold}`)
    assert.isTrue(refused({ to: "localhost", requestTimeoutMs: 0 }))
    assert.isFalse(refused({ to: "localhost", requestTimeoutMs: 1 }))
  })

  const bad: ReadonlyArray<readonly [string, unknown]> = [
    ["no domain", { wait: 60 }],
    ["an empty domain", { to: "" }],
    ["a negative wait", { to: "localhost", wait: -1 }],
    ["a fractional hold", { to: "localhost", hold: 1.5 }],
    ["a ver that is not major.minor", { to: "localhost", ver: "2" }],
    ["a route that is not proto:host:port", { to: "localhost", route: "localhost" }],
    ["zero attempts", { to: "localhost", maxAttempts: 0 }],
    ["not an object", "localhost"]
  ]
  for (const [what, input] of bad) {
    it(`refuses ${what} with invalid-options`, () => {
      assert.isTrue(refused(input))
    })
  }
})
