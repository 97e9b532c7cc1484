/**
 * The crypto behind the pure SASL mechanisms of `@xmpp-core/protocol`:
 * answers SCRAM's compute requests with `Kdf` (PBKDF2), `Mac` (HMAC) and
 * `Digest` (H) from `effect/crypto`, and draws client nonces from
 * `SecureRandom`. Swapping the crypto layers (WebCrypto in a browser,
 * `NodeCrypto` on Node) swaps the implementation; this module stays the same.
 *
 * @since 0.1.0
 */
import { Scram } from "@xmpp-core/protocol"
import { Context, Effect, Layer } from "effect"
import * as Base64 from "effect/encoding/Base64"
import type * as CryptoError from "effect/crypto/CryptoError"
import * as Digest from "effect/crypto/Digest"
import * as Kdf from "effect/crypto/Kdf"
import * as Mac from "effect/crypto/Mac"
import * as SecureRandom from "effect/crypto/SecureRandom"

/**
 * @since 0.1.0
 */
export class SaslCrypto extends Context.Service<SaslCrypto, {
  /** Answers a SCRAM compute request; cached keys that fit skip PBKDF2. */
  readonly computeScram: (request: Scram.ComputeRequest) => Effect.Effect<Scram.Computed, CryptoError.CryptoError>
  /** A fresh SCRAM client nonce: 24 random bytes as base64 (printable, no ','). */
  readonly clientNonce: Effect.Effect<string>
}>()("@xmpp-core/client/SaslCrypto") {}

const digestAlgorithm = (hash: Scram.Hash): Digest.Algorithm =>
  hash === "SHA-1" ? Digest.sha1 : hash === "SHA-256" ? Digest.sha256 : Digest.sha512

const macAlgorithm = (hash: Scram.Hash): Mac.Algorithm =>
  hash === "SHA-1" ? Mac.hmacSha1 : hash === "SHA-256" ? Mac.hmacSha256 : Mac.hmacSha512

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))
const CLIENT_KEY = ascii("Client Key")
const SERVER_KEY = ascii("Server Key")

const xor = (a: Uint8Array, b: Uint8Array): Uint8Array => a.map((byte, i) => byte ^ (b[i] ?? 0))

/**
 * Builds the service from the `effect/crypto` services.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<
  SaslCrypto["Service"],
  never,
  Digest.Digest | Mac.Mac | Kdf.Kdf | SecureRandom.SecureRandom
> = Effect.gen(function*() {
  const digest = yield* Digest.Digest
  const mac = yield* Mac.Mac
  const kdf = yield* Kdf.Kdf
  const random = yield* SecureRandom.SecureRandom

  const hmac = (hash: Scram.Hash, key: Uint8Array, data: Uint8Array) =>
    Effect.flatMap(Mac.key(macAlgorithm(hash), key), (macKey) => mac.sign(macKey, data))

  // RFC 5802 §3: SaltedPassword = Hi(password, salt, i) (PBKDF2 with HMAC),
  // ClientKey and ServerKey are HMACs of it; only those two are kept.
  const deriveKeys = Effect.fnUntraced(function*(request: Scram.ComputeRequest) {
    const salted = yield* kdf.derive(
      Kdf.pbkdf2({ hash: digestAlgorithm(request.hash), iterations: request.iterations }),
      request.password,
      { salt: request.salt, length: Scram.hashLength(request.hash) }
    )
    const clientKey = yield* hmac(request.hash, salted, CLIENT_KEY)
    const serverKey = yield* hmac(request.hash, salted, SERVER_KEY)
    salted.fill(0)
    const keys: Scram.Keys = {
      hash: request.hash,
      salt: request.saltBase64,
      iterations: request.iterations,
      clientKey,
      serverKey
    }
    return keys
  })

  const computeScram = Effect.fnUntraced(function*(request: Scram.ComputeRequest) {
    const keys = request.cached ?? (yield* deriveKeys(request))
    const storedKey = yield* digest.digest(digestAlgorithm(request.hash), keys.clientKey)
    const clientSignature = yield* hmac(request.hash, storedKey, request.authMessage)
    const serverSignature = yield* hmac(request.hash, keys.serverKey, request.authMessage)
    const computed: Scram.Computed = { clientProof: xor(keys.clientKey, clientSignature), serverSignature, keys }
    return computed
  })

  return SaslCrypto.of({
    computeScram,
    clientNonce: Effect.map(random.randomBytes(24), (bytes) => Base64.encode(bytes))
  })
})

/**
 * The service, given the `effect/crypto` layers.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<SaslCrypto, never, Digest.Digest | Mac.Mac | Kdf.Kdf | SecureRandom.SecureRandom> =
  Layer.effect(SaslCrypto, make)

/**
 * The service on WebCrypto (browsers, Deno, Node's `globalThis.crypto`).
 *
 * @since 0.1.0
 */
export const layerWebCrypto: Layer.Layer<SaslCrypto> = layer.pipe(
  Layer.provide([Digest.layerWebCrypto, Kdf.layerWebCrypto, Mac.layerWebCrypto, SecureRandom.layerWebCrypto]),
  Layer.provide(SecureRandom.layerWebCrypto)
)
