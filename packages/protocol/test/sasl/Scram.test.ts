import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { Scram } from "@xmpp-core/protocol"
import * as fc from "fast-check"
import { computeWithNode } from "./NodeScramCompute.js"

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const bytes = (s: string) => new TextEncoder().encode(s)

const run = (options: Scram.Options, serverFirst: string, serverFinal: string) => {
  const started = Result.getOrThrow(Scram.start(options))
  assert.strictEqual(started.state._tag, "AwaitingServerFirst")
  if (started.state._tag !== "AwaitingServerFirst") throw new Error("unreachable")
  const first = Result.getOrThrow(Scram.receiveServerFirst(started.state, bytes(serverFirst)))
  const computed = computeWithNode(first.request)
  const final = Scram.receiveComputed(first.state, computed)
  const verified = Scram.receiveServerFinal(final.state, bytes(serverFinal))
  return { clientFirst: text(started.initialResponse), clientFinal: text(final.response), verified, first, final }
}

describe("SCRAM", () => {
  it("matches the RFC 5802 §5 SCRAM-SHA-1 example byte for byte", () => {
    const result = run(
      {
        hash: "SHA-1",
        username: "user",
        password: "pencil",
        clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
        binding: { _tag: "Unsupported" }
      },
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
      "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
    )
    assert.strictEqual(result.clientFirst, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
    assert.strictEqual(
      result.clientFinal,
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    )
    assert.isTrue(Result.isSuccess(result.verified))
  })

  it("matches the RFC 7677 §3 SCRAM-SHA-256 example byte for byte", () => {
    const result = run(
      {
        hash: "SHA-256",
        username: "user",
        password: "pencil",
        clientNonce: "rOprNGfwEbeRWgbNEkqO",
        binding: { _tag: "Unsupported" }
      },
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    )
    assert.strictEqual(result.clientFirst, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    assert.strictEqual(
      result.clientFinal,
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," +
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    assert.isTrue(Result.isSuccess(result.verified))
  })

  it("SCRAM-SHA-512 matches a computation done independently with node:crypto", () => {
    // Expected values were computed once with node:crypto (pbkdf2Sync, createHmac)
    // following RFC 5802 §3 by hand, outside this code.
    const result = run(
      {
        hash: "SHA-512",
        username: "user",
        password: "pencil",
        clientNonce: "rOprNGfwEbeRWgbNEkqO",
        binding: { _tag: "Unsupported" }
      },
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      SHA512_SERVER_FINAL
    )
    assert.strictEqual(result.clientFinal, SHA512_CLIENT_FINAL)
    assert.isTrue(Result.isSuccess(result.verified))
  })

  it("a wrong server signature is a typed error", () => {
    const result = run(
      { hash: "SHA-1", username: "user", password: "pencil", clientNonce: "fyko+d2lbbFgONRv9qkxdawL", binding: { _tag: "Unsupported" } },
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
      "v=rmF9pqV8S7suAoZWja4dJRkFsKQX"
    )
    assert.isTrue(Result.isFailure(result.verified))
    if (Result.isFailure(result.verified)) assert.strictEqual(result.verified.failure.reason, "invalid-server-signature")
  })

  it("reports a server e= error with its value", () => {
    const result = run(
      { hash: "SHA-1", username: "user", password: "pencil", clientNonce: "fyko+d2lbbFgONRv9qkxdawL", binding: { _tag: "Unsupported" } },
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
      "e=invalid-proof"
    )
    assert.isTrue(Result.isFailure(result.verified))
    if (Result.isFailure(result.verified)) {
      assert.strictEqual(result.verified.failure.reason, "server-error")
      assert.strictEqual(result.verified.failure.serverError, "invalid-proof")
    }
  })

  const serverFirstFailure = (serverFirst: string, options: Partial<Scram.Options> = {}) => {
    const started = Result.getOrThrow(Scram.start({
      hash: "SHA-256",
      username: "user",
      password: "pencil",
      clientNonce: "abc",
      binding: { _tag: "Unsupported" },
      ...options
    }))
    if (started.state._tag !== "AwaitingServerFirst") throw new Error("unreachable")
    const next = Scram.receiveServerFirst(started.state, bytes(serverFirst))
    return Result.isFailure(next) ? next.failure.reason : "accepted"
  }

  it("refuses an iteration count below the minimum, and above the maximum", () => {
    assert.strictEqual(serverFirstFailure("r=abcdef,s=QSXCR+Q6sek8bf92,i=4095"), "iteration-count-too-low")
    assert.strictEqual(serverFirstFailure("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096"), "accepted")
    assert.strictEqual(
      serverFirstFailure("r=abcdef,s=QSXCR+Q6sek8bf92,i=9999", { minIterations: 10000 }),
      "iteration-count-too-low"
    )
    assert.strictEqual(serverFirstFailure("r=abcdef,s=QSXCR+Q6sek8bf92,i=2000000"), "iteration-count-too-high")
  })

  it("refuses a nonce that does not extend the client's, mandatory extensions, bad salts", () => {
    assert.strictEqual(serverFirstFailure("r=xbcdef,s=QSXCR+Q6sek8bf92,i=4096"), "nonce-mismatch")
    assert.strictEqual(serverFirstFailure("r=abc,s=QSXCR+Q6sek8bf92,i=4096"), "nonce-mismatch")
    // The client nonce must be the start of the server's, not anywhere in it.
    assert.strictEqual(serverFirstFailure("r=xyzabcdef,s=QSXCR+Q6sek8bf92,i=4096"), "nonce-mismatch")
    assert.strictEqual(serverFirstFailure("r=xabc,s=QSXCR+Q6sek8bf92,i=4096"), "nonce-mismatch")
    assert.strictEqual(serverFirstFailure("m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096"), "extensions-not-supported")
    assert.strictEqual(serverFirstFailure("r=abcdef,s=!!!,i=4096"), "malformed-challenge")
    assert.strictEqual(serverFirstFailure("r=abcdef,s=,i=4096"), "malformed-challenge")
    assert.strictEqual(serverFirstFailure("r=abcdef,i=4096,s=QSXCR+Q6sek8bf92"), "malformed-challenge")
    assert.strictEqual(serverFirstFailure("r=abcdef,s=QSXCR+Q6sek8bf92,i=04096"), "malformed-challenge")
    assert.strictEqual(serverFirstFailure("garbage"), "malformed-challenge")
  })

  it("escapes , and = in the user name and writes the authzid and binding flag", () => {
    const started = Result.getOrThrow(Scram.start({
      hash: "SHA-1",
      username: "a,b=c",
      password: "p",
      authzid: "admin@x",
      clientNonce: "n0nce",
      binding: { _tag: "ServerDoesNotSupport" }
    }))
    assert.strictEqual(text(started.initialResponse), "y,a=admin@x,n=a=2Cb=3Dc,r=n0nce")
  })

  it("puts the gs2 header and the binding data into c= for -PLUS", () => {
    const started = Result.getOrThrow(Scram.start({
      hash: "SHA-256",
      username: "user",
      password: "pencil",
      clientNonce: "abc",
      binding: { _tag: "Bound", binding: { type: "tls-exporter", data: new Uint8Array([1, 2, 3]) } }
    }))
    assert.strictEqual(text(started.initialResponse), "p=tls-exporter,,n=user,r=abc")
    if (started.state._tag !== "AwaitingServerFirst") throw new Error("unreachable")
    const next = Result.getOrThrow(Scram.receiveServerFirst(started.state, bytes("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096")))
    const expectedC = Buffer.concat([Buffer.from("p=tls-exporter,,"), Buffer.from([1, 2, 3])]).toString("base64")
    assert.include(text(next.request.authMessage), `,c=${expectedC},r=abcdef`)
  })

  it("passes cached keys on only when hash, salt and iterations match", () => {
    const options: Scram.Options = {
      hash: "SHA-1",
      username: "user",
      password: "pencil",
      clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
      binding: { _tag: "Unsupported" }
    }
    const serverFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
    const fresh = run(options, serverFirst, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
    const keys = Result.getOrThrow(fresh.verified)
    const again = run({ ...options, cachedKeys: keys }, serverFirst, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
    assert.strictEqual(again.first.request.cached, keys)
    assert.strictEqual(again.clientFinal, fresh.clientFinal)
    const otherSalt = run(
      { ...options, cachedKeys: { ...keys, salt: "AAAA" } },
      serverFirst,
      "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
    )
    assert.isUndefined(otherSalt.first.request.cached)
  })

  it("refuses a prohibited character in the password before sending anything", () => {
    const started = Scram.start({
      hash: "SHA-1",
      username: "user",
      password: "pen\u0007cil",
      clientNonce: "abc",
      binding: { _tag: "Unsupported" }
    })
    assert.isTrue(Result.isFailure(started))
    if (Result.isFailure(started)) assert.strictEqual(started.failure.reason, "invalid-credentials")
  })
})

const SHA512_CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," +
  "p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ=="
const SHA512_SERVER_FINAL =
  "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw=="

describe("SCRAM against arbitrary server messages", () => {
  const reasons = new Set([
    "nonce-mismatch",
    "iteration-count-too-low",
    "iteration-count-too-high",
    "malformed-challenge",
    "extensions-not-supported"
  ])
  const start = () => {
    const started = Result.getOrThrow(Scram.start({
      hash: "SHA-1",
      username: "user",
      password: "pencil",
      clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
      binding: { _tag: "Unsupported" }
    }))
    if (started.state._tag !== "AwaitingServerFirst") throw new Error("unreachable")
    return started.state
  }

  it("any server-first-message gives a compute request or a typed error, never a throw", () => {
    const state = start()
    const attribute = fc.tuple(fc.constantFrom("r", "s", "i", "m", "x", "", "rr"), fc.string({ maxLength: 12 }))
      .map(([k, v]) => `${k}=${v}`)
    const message = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.array(attribute, { maxLength: 5 }).map((parts) => bytes(parts.join(",")))
    )
    fc.assert(fc.property(message, (input) => {
      const next = Scram.receiveServerFirst(state, input)
      if (Result.isFailure(next)) assert.isTrue(reasons.has(next.failure.reason), next.failure.reason)
      else {
        assert.isAtLeast(next.success.request.iterations, 4096)
        assert.isTrue(text(next.success.request.authMessage).startsWith("n=user,r=fyko+d2lbbFgONRv9qkxdawL,"))
      }
    }), { numRuns: 2000 })
  })

  it("no server-final-message but the right one verifies", () => {
    const state = start()
    const first = Result.getOrThrow(Scram.receiveServerFirst(
      state,
      bytes("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
    ))
    const final = Scram.receiveComputed(first.state, computeWithNode(first.request))
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 60 }), fc.string().map(bytes)), (input) => {
      fc.pre(text(input) !== "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
      assert.isTrue(Result.isFailure(Scram.receiveServerFinal(final.state, input)))
    }), { numRuns: 2000 })
    assert.isTrue(Result.isSuccess(Scram.receiveServerFinal(final.state, bytes("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="))))
  })
})
