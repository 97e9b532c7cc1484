import { BoshOptions } from "@xmpp-core/protocol"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"

describe("BoshOptions (Schema)", () => {
  it("decodes good options, keeping what was given", () => {
    const decoded = BoshOptions.decode({ to: "localhost", wait: 60, hold: 1, route: "xmpp:localhost:5222" })
    assert.isTrue(Result.isSuccess(decoded))
    assert.strictEqual(Result.isSuccess(decoded) ? decoded.success.route : "", "xmpp:localhost:5222")
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
      const decoded = BoshOptions.decode(input)
      assert.isTrue(Result.isFailure(decoded))
      if (Result.isFailure(decoded)) assert.strictEqual(decoded.failure.reason, "invalid-options")
    })
  }
})
