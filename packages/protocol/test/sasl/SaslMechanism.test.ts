import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { SaslMechanism } from "@xmpp-core/protocol"

const password = { _tag: "Password", username: "user", password: "pencil" } as const
const base: SaslMechanism.SelectInput = {
  offered: [],
  allowed: undefined,
  credentials: password,
  tls: { tlsVersion: "TLSv1.3", bindings: [{ type: "tls-exporter", data: new Uint8Array([1]) }] },
  secure: true,
  allowPlainWithoutTls: false,
  serverBindingTypes: undefined
}
const choose = (input: Partial<SaslMechanism.SelectInput>) => SaslMechanism.select({ ...base, ...input })?.name

describe("SaslMechanism", () => {
  it("orders strongest first: -PLUS, SHA-512, SHA-256, SHA-1, PLAIN", () => {
    const offered = ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS"]
    assert.strictEqual(choose({ offered, serverBindingTypes: ["tls-exporter"] }), "SCRAM-SHA-256-PLUS")
    assert.strictEqual(choose({ offered, tls: undefined }), "SCRAM-SHA-512")
    assert.strictEqual(choose({ offered: ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"], tls: undefined }), "SCRAM-SHA-256")
    assert.strictEqual(choose({ offered: ["PLAIN", "SCRAM-SHA-1"], tls: undefined }), "SCRAM-SHA-1")
    assert.strictEqual(choose({ offered: ["PLAIN", "DIGEST-MD5"], tls: undefined }), "PLAIN")
  })

  it("keeps PLAIN off unencrypted streams unless allowed", () => {
    assert.isUndefined(choose({ offered: ["PLAIN"], secure: false, tls: undefined }))
    assert.strictEqual(choose({ offered: ["PLAIN"], secure: false, tls: undefined, allowPlainWithoutTls: true }), "PLAIN")
  })

  it("EXTERNAL only with a certificate and TLS, ANONYMOUS only without an account", () => {
    const certificate = { _tag: "Certificate" } as const
    assert.strictEqual(choose({ offered: ["EXTERNAL", "SCRAM-SHA-256"], credentials: certificate }), "EXTERNAL")
    assert.isUndefined(choose({ offered: ["EXTERNAL"], credentials: certificate, secure: false, tls: undefined }))
    assert.strictEqual(choose({ offered: ["EXTERNAL", "SCRAM-SHA-256"] }), "SCRAM-SHA-256")
    assert.strictEqual(choose({ offered: ["ANONYMOUS", "PLAIN"], credentials: { _tag: "Anonymous" } }), "ANONYMOUS")
    assert.strictEqual(choose({ offered: ["ANONYMOUS", "PLAIN"] }), "PLAIN")
    assert.deepStrictEqual(
      SaslMechanism.preference.map(SaslMechanism.requiredCredentials),
      ["Certificate", ...Array(7).fill("Password"), "Anonymous"]
    )
  })

  it("PLAIN, ANONYMOUS and EXTERNAL expect no challenge and finish on success", () => {
    const started = Result.getOrThrow(
      SaslMechanism.start({ name: "PLAIN", scramBinding: { _tag: "Unsupported" } }, password, { clientNonce: "x" })
    )
    const challenged = SaslMechanism.step(started.session, { _tag: "Challenge", data: new Uint8Array([1]) })
    assert.strictEqual(challenged._tag === "Failed" ? challenged.error.reason : challenged._tag, "unexpected-challenge")
    assert.strictEqual(SaslMechanism.step(started.session, { _tag: "Success", data: undefined })._tag, "Authenticated")
    const anonymous = Result.getOrThrow(
      SaslMechanism.start({ name: "ANONYMOUS", scramBinding: { _tag: "Unsupported" } }, { _tag: "Anonymous" }, {
        clientNonce: "x"
      })
    )
    assert.strictEqual(anonymous.initialResponse.length, 0)
  })

  it("PLAIN prepares its strings and refuses prohibited ones", () => {
    const started = SaslMechanism.start(
      { name: "PLAIN", scramBinding: { _tag: "Unsupported" } },
      { _tag: "Password", username: "us\u00ADer", password: "p\u00A0w" },
      { clientNonce: "x" }
    )
    assert.strictEqual(new TextDecoder().decode(Result.getOrThrow(started).initialResponse), "\u0000user\u0000p w")
    const bad = SaslMechanism.start(
      { name: "PLAIN", scramBinding: { _tag: "Unsupported" } },
      { _tag: "Password", username: "user", password: "p\u0000w" },
      { clientNonce: "x" }
    )
    assert.isTrue(Result.isFailure(bad))
  })
})
