import { assert, describe, it } from "@effect/vitest"
import { Scram } from "@xmpp-core/protocol"
import { SaslCrypto } from "@xmpp-core/client"
import { Effect, Result } from "effect"

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const bytes = (s: string) => new TextEncoder().encode(s)

// One SCRAM exchange: the pure machine from protocol, the crypto from the service.
const login = Effect.fnUntraced(function*(options: Scram.Options, serverFirst: string, serverFinal: string) {
  const crypto = yield* SaslCrypto.SaslCrypto
  const started = yield* Effect.fromResult(Scram.start(options))
  if (started.state._tag !== "AwaitingServerFirst") return yield* Effect.die("unreachable")
  const first = yield* Effect.fromResult(Scram.receiveServerFirst(started.state, bytes(serverFirst)))
  const computed = yield* crypto.computeScram(first.request)
  const final = Scram.receiveComputed(first.state, computed)
  const verified = Scram.receiveServerFinal(final.state, bytes(serverFinal))
  return { clientFirst: text(started.initialResponse), clientFinal: text(final.response), verified, computed }
})

const rfc5802 = {
  options: {
    hash: "SHA-1",
    username: "user",
    password: "pencil",
    clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
    binding: { _tag: "Unsupported" }
  } satisfies Scram.Options,
  serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
  serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
}

describe("SaslCrypto on effect/crypto (WebCrypto layers)", () => {
  it.effect("reproduces RFC 5802 SCRAM-SHA-1 byte for byte and verifies the server signature", () =>
    Effect.gen(function*() {
      const result = yield* login(rfc5802.options, rfc5802.serverFirst, rfc5802.serverFinal)
      assert.strictEqual(result.clientFirst, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
      assert.strictEqual(
        result.clientFinal,
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
      )
      assert.isTrue(Result.isSuccess(result.verified))
    }).pipe(Effect.provide(SaslCrypto.layerWebCrypto)))

  it.effect("reproduces RFC 7677 SCRAM-SHA-256 byte for byte and verifies the server signature", () =>
    Effect.gen(function*() {
      const result = yield* login(
        { ...rfc5802.options, hash: "SHA-256", clientNonce: "rOprNGfwEbeRWgbNEkqO" },
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
      )
      assert.strictEqual(
        result.clientFinal,
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
      )
      assert.isTrue(Result.isSuccess(result.verified))
    }).pipe(Effect.provide(SaslCrypto.layerWebCrypto)))

  it.effect("SCRAM-SHA-512 matches an independent node:crypto computation", () =>
    Effect.gen(function*() {
      const result = yield* login(
        { ...rfc5802.options, hash: "SHA-512", clientNonce: "rOprNGfwEbeRWgbNEkqO" },
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw=="
      )
      assert.strictEqual(
        result.clientFinal,
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," +
          "p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ=="
      )
      assert.isTrue(Result.isSuccess(result.verified))
    }).pipe(Effect.provide(SaslCrypto.layerWebCrypto)))

  it.effect("cached keys give the same proof without the password", () =>
    Effect.gen(function*() {
      const fresh = yield* login(rfc5802.options, rfc5802.serverFirst, rfc5802.serverFinal)
      const cached = yield* login(
        // A wrong password proves PBKDF2 was skipped: only the cached keys can give the right proof.
        { ...rfc5802.options, password: "not the password", cachedKeys: fresh.computed.keys },
        rfc5802.serverFirst,
        rfc5802.serverFinal
      )
      assert.strictEqual(cached.clientFinal, fresh.clientFinal)
      assert.isTrue(Result.isSuccess(cached.verified))
    }).pipe(Effect.provide(SaslCrypto.layerWebCrypto)))

  it.effect("draws distinct printable client nonces", () =>
    Effect.gen(function*() {
      const crypto = yield* SaslCrypto.SaslCrypto
      const a = yield* crypto.clientNonce
      const b = yield* crypto.clientNonce
      assert.match(a, /^[A-Za-z0-9+/=]{32}$/)
      assert.notStrictEqual(a, b)
    }).pipe(Effect.provide(SaslCrypto.layerWebCrypto)))
})
