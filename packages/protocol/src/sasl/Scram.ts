/**
 * SCRAM (RFC 5802, RFC 7677) as a pure step machine.
 *
 * The message logic lives here; the hashing does not. After the
 * server-first-message the machine asks for a {@link ComputeRequest} (PBKDF2,
 * HMAC, H over the AuthMessage) and continues with the {@link Computed}
 * result, so the caller can run the crypto wherever it likes (the client's
 * SASL service uses `effect/crypto`) and the tests can check each message
 * byte for byte.
 *
 * @since 0.1.0
 */
import { Bytes, Result } from "effect"
import * as Mac from "effect/crypto/Mac"
import * as Base64 from "effect/encoding/Base64"
import type { ChannelBinding } from "./ChannelBinding.js"
import * as SaslPrep from "./SaslPrep.js"
import { SaslMechanismError } from "./SaslMechanismError.js"
import * as Utf8 from "../encoding/Utf8.js"

/**
 * The hash functions of the SCRAM family this client implements.
 *
 * @since 0.1.0
 */
export type Hash = "SHA-1" | "SHA-256" | "SHA-512"

/**
 * What goes into the GS2 header's channel binding flag (RFC 5802 §6):
 * `n` the client cannot bind, `y` it could but the server offered no -PLUS
 * mechanism (so a server that stripped -PLUS is caught), `p` it binds.
 *
 * @since 0.1.0
 */
export type Binding =
  | { readonly _tag: "Unsupported" }
  | { readonly _tag: "ServerDoesNotSupport" }
  | { readonly _tag: "Bound"; readonly binding: ChannelBinding }

/**
 * Keys derived from the password for one salt and iteration count. Kept by
 * the caller, they let the next login with the same salt skip PBKDF2.
 *
 * @since 0.1.0
 */
export interface Keys {
  readonly hash: Hash
  /** The salt as the server sent it (base64). */
  readonly salt: string
  readonly iterations: number
  readonly clientKey: Uint8Array
  readonly serverKey: Uint8Array
}

/**
 * The crypto the machine needs after the server-first-message:
 * SaltedPassword = PBKDF2(password, salt, iterations) unless `cached` keys fit,
 * then ClientProof and ServerSignature over `authMessage`.
 *
 * @since 0.1.0
 */
export interface ComputeRequest {
  readonly _tag: "ScramComputeRequest"
  readonly hash: Hash
  /** The SASLprep'd password, UTF-8. */
  readonly password: Uint8Array
  readonly salt: Uint8Array
  readonly saltBase64: string
  readonly iterations: number
  readonly authMessage: Uint8Array
  /** Keys from an earlier login with the same hash, salt and iteration count. */
  readonly cached: Keys | undefined
}

/**
 * The answer to a {@link ComputeRequest}.
 *
 * @since 0.1.0
 */
export interface Computed {
  readonly clientProof: Uint8Array
  readonly serverSignature: Uint8Array
  readonly keys: Keys
}

/**
 * @since 0.1.0
 */
export interface Options {
  readonly hash: Hash
  readonly username: string
  readonly password: string
  readonly authzid?: string | undefined
  /** Printable ASCII without `,`, from a secure random source. */
  readonly clientNonce: string
  /** `Bound` makes this the -PLUS mechanism. */
  readonly binding: Binding
  /** Refuse fewer PBKDF2 iterations than this (default 4096, RFC 5802's floor). */
  readonly minIterations?: number | undefined
  /** Refuse more than this, so a server cannot make the client burn CPU (default 1,000,000). */
  readonly maxIterations?: number | undefined
  readonly cachedKeys?: Keys | undefined
}

/**
 * The machine's states, named for what each waits for.
 *
 * @since 0.1.0
 */
export type State =
  | {
    readonly _tag: "AwaitingServerFirst"
    readonly mechanism: string
    readonly options: Options
    readonly password: Uint8Array
    readonly gs2Header: string
    readonly clientFirstBare: string
  }
  | {
    readonly _tag: "AwaitingProof"
    readonly mechanism: string
    readonly clientFinalWithoutProof: string
    readonly hash: Hash
  }
  | {
    readonly _tag: "AwaitingServerFinal"
    readonly mechanism: string
    readonly serverSignature: Uint8Array
    readonly keys: Keys
  }
  | {
    readonly _tag: "AwaitingSuccess"
    readonly mechanism: string
    readonly keys: Keys
  }

/** The mechanism name for a hash and binding choice. @since 0.1.0 */
export const mechanismName = (hash: Hash, plus: boolean): string => `SCRAM-${hash}${plus ? "-PLUS" : ""}`

/** Output length of each hash in bytes. @since 0.1.0 */
export const hashLength = (hash: Hash): number => hash === "SHA-1" ? 20 : hash === "SHA-256" ? 32 : 64

const fail = (mechanism: string, reason: SaslMechanismError["reason"], message: string, serverError?: string) =>
  Result.fail(new SaslMechanismError({ reason, message, mechanism, serverError }))

// RFC 5802 §5.1: "," and "=" in a saslname are escaped as =2C and =3D.
const escapeSaslName = (name: string): string => name.replace(/=/g, "=3D").replace(/,/g, "=2C")

const printableNonce = /^[\x21-\x2b\x2d-\x7e]+$/

/**
 * Starts the exchange: prepares the credentials and returns the
 * client-first-message (the `<auth/>` initial response).
 *
 * @since 0.1.0
 */
export const start = (
  options: Options
): Result.Result<{ readonly state: State; readonly initialResponse: Uint8Array }, SaslMechanismError> => {
  const plus = options.binding._tag === "Bound"
  const mechanism = mechanismName(options.hash, plus)
  const username = SaslPrep.prepare(options.username)
  if (Result.isFailure(username)) {
    return fail(mechanism, "invalid-credentials", `user name: ${username.failure.message}`)
  }
  const password = SaslPrep.prepare(options.password)
  if (Result.isFailure(password)) {
    return fail(mechanism, "invalid-credentials", `password: ${password.failure.message}`)
  }
  if (!printableNonce.test(options.clientNonce)) {
    return fail(mechanism, "invalid-credentials", "the client nonce must be printable ASCII without ','")
  }
  let authzid = ""
  if (options.authzid !== undefined && options.authzid !== "") {
    const prepared = SaslPrep.prepare(options.authzid)
    if (Result.isFailure(prepared)) {
      return fail(mechanism, "invalid-credentials", `authzid: ${prepared.failure.message}`)
    }
    authzid = `a=${escapeSaslName(prepared.success)}`
  }
  const flag = options.binding._tag === "Bound"
    ? `p=${options.binding.binding.type}`
    : options.binding._tag === "ServerDoesNotSupport"
    ? "y"
    : "n"
  const gs2Header = `${flag},${authzid},`
  const clientFirstBare = `n=${escapeSaslName(username.success)},r=${options.clientNonce}`
  return Result.succeed({
    state: {
      _tag: "AwaitingServerFirst",
      mechanism,
      options,
      password: Utf8.encode(password.success),
      gs2Header,
      clientFirstBare
    },
    initialResponse: Utf8.encode(gs2Header + clientFirstBare)
  })
}

// Splits "a=1,b=2" into ordered [key, value] pairs; undefined when an
// attribute is not a single letter followed by "=".
const parseAttributes = (message: string): ReadonlyArray<readonly [string, string]> | undefined => {
  const out: Array<readonly [string, string]> = []
  for (const part of message.split(",")) {
    if (!/^[A-Za-z]=/.test(part)) return undefined
    out.push([part.charAt(0), part.slice(2)])
  }
  return out
}

/**
 * Reads the server-first-message and asks for the proof computation.
 *
 * @since 0.1.0
 */
export const receiveServerFirst = (
  state: Extract<State, { _tag: "AwaitingServerFirst" }>,
  challenge: Uint8Array
): Result.Result<
  { readonly state: Extract<State, { _tag: "AwaitingProof" }>; readonly request: ComputeRequest },
  SaslMechanismError
> => {
  const { mechanism, options } = state
  const serverFirst = Utf8.decode(challenge)
  if (serverFirst === undefined) return fail(mechanism, "malformed-challenge", "server-first-message is not UTF-8")
  const attributes = parseAttributes(serverFirst)
  if (attributes === undefined) {
    return fail(mechanism, "malformed-challenge", "server-first-message is not a list of attributes")
  }
  if (attributes[0]?.[0] === "m") {
    return fail(mechanism, "extensions-not-supported", "the server requires a SCRAM extension this client lacks")
  }
  const [r, s, i] = attributes
  if (r?.[0] !== "r" || s?.[0] !== "s" || i?.[0] !== "i") {
    return fail(mechanism, "malformed-challenge", "server-first-message must start with r=, s=, i=")
  }
  const nonce = r[1]
  if (!nonce.startsWith(options.clientNonce) || nonce.length === options.clientNonce.length) {
    return fail(mechanism, "nonce-mismatch", "the server nonce does not extend the client nonce")
  }
  if (!printableNonce.test(nonce)) return fail(mechanism, "malformed-challenge", "the nonce is not printable ASCII")
  const salt = Base64.decode(s[1])
  if (s[1] === "" || Result.isFailure(salt)) {
    return fail(mechanism, "malformed-challenge", "the salt is not base64")
  }
  if (!/^[1-9][0-9]{0,9}$/.test(i[1])) {
    return fail(mechanism, "malformed-challenge", "the iteration count is not a positive integer")
  }
  const iterations = Number(i[1])
  const minIterations = options.minIterations ?? 4096
  const maxIterations = options.maxIterations ?? 1_000_000
  if (iterations < minIterations) {
    return fail(
      mechanism,
      "iteration-count-too-low",
      `the server asks for ${iterations} iterations, fewer than the minimum ${minIterations}`
    )
  }
  if (iterations > maxIterations) {
    return fail(
      mechanism,
      "iteration-count-too-high",
      `the server asks for ${iterations} iterations, more than the maximum ${maxIterations}`
    )
  }
  const gs2 = Utf8.encode(state.gs2Header)
  const cbindInput = options.binding._tag === "Bound" ? Bytes.concat([gs2, options.binding.binding.data]) : gs2
  const clientFinalWithoutProof = `c=${Base64.encode(cbindInput)},r=${nonce}`
  const authMessage = `${state.clientFirstBare},${serverFirst},${clientFinalWithoutProof}`
  const cached = options.cachedKeys
  const fits = cached !== undefined && cached.hash === options.hash && cached.salt === s[1] &&
    cached.iterations === iterations
  return Result.succeed({
    state: { _tag: "AwaitingProof", mechanism, clientFinalWithoutProof, hash: options.hash },
    request: {
      _tag: "ScramComputeRequest",
      hash: options.hash,
      password: state.password,
      salt: salt.success,
      saltBase64: s[1],
      iterations,
      authMessage: Utf8.encode(authMessage),
      cached: fits ? cached : undefined
    }
  })
}

/**
 * Takes the computed proof and returns the client-final-message.
 *
 * @since 0.1.0
 */
export const receiveComputed = (
  state: Extract<State, { _tag: "AwaitingProof" }>,
  computed: Computed
): { readonly state: Extract<State, { _tag: "AwaitingServerFinal" }>; readonly response: Uint8Array } => ({
  state: {
    _tag: "AwaitingServerFinal",
    mechanism: state.mechanism,
    serverSignature: computed.serverSignature,
    keys: computed.keys
  },
  response: Utf8.encode(`${state.clientFinalWithoutProof},p=${Base64.encode(computed.clientProof)}`)
})

/**
 * Verifies the server-final-message. Success gives the keys to cache; any
 * mismatch, `e=` error or malformed message is a typed error and the login
 * stops there.
 *
 * @since 0.1.0
 */
export const receiveServerFinal = (
  state: Extract<State, { _tag: "AwaitingServerFinal" }>,
  message: Uint8Array
): Result.Result<Keys, SaslMechanismError> => {
  const { mechanism } = state
  const text = Utf8.decode(message)
  const attributes = text === undefined ? undefined : parseAttributes(text)
  const first = attributes?.[0]
  if (first === undefined) {
    return fail(mechanism, "malformed-challenge", "server-final-message is not a list of attributes")
  }
  if (first[0] === "e") {
    return fail(mechanism, "server-error", `the server reports a SCRAM error: ${first[1]}`, first[1])
  }
  if (first[0] !== "v") {
    return fail(mechanism, "malformed-challenge", "server-final-message must start with v= or e=")
  }
  const signature = Base64.decode(first[1])
  if (Result.isFailure(signature) || !Mac.timingSafeEqual(signature.success, state.serverSignature)) {
    return fail(mechanism, "invalid-server-signature", "the server signature does not match: the server is not trusted")
  }
  return Result.succeed(state.keys)
}
