import { assert, describe, it } from "@effect/vitest"
import { SaslSettings, type StreamNegotiator } from "@xmpp-core/client"
import { Result } from "effect"

describe("SaslSettings", () => {
  it("decodes a valid configuration and keeps absent fields absent", () => {
    const decoded = SaslSettings.decode({ mechanisms: ["SCRAM-SHA-256", "PLAIN"], minIterations: 10000 })
    assert.isTrue(Result.isSuccess(decoded))
    if (Result.isSuccess(decoded)) {
      assert.deepStrictEqual(decoded.success.mechanisms, ["SCRAM-SHA-256", "PLAIN"])
      assert.isUndefined(decoded.success.allowPlaintext)
      // The decoded settings are the negotiator's options, field for field.
      const options: StreamNegotiator.Options = {
        ...decoded.success,
        transport: "tcp",
        domain: "localhost",
        credentials: { _tag: "Password", username: "alice", password: "alicepass" }
      }
      assert.strictEqual(options.minIterations, 10000)
    }
  })

  it("refuses unknown mechanisms, non-integer or zero iteration counts, empty resources", () => {
    for (const bad of [
      { mechanisms: ["DIGEST-MD5"] },
      { minIterations: 0 },
      { minIterations: 4096.5 },
      { resource: "" },
      { allowPlaintext: "yes" }
    ]) {
      assert.isTrue(Result.isFailure(SaslSettings.decode(bad)), JSON.stringify(bad))
    }
  })
})
