/**
 * The SASL mechanisms as one pure machine: choose a mechanism from what the
 * server offers, start it, then feed it each server message (challenge in,
 * response out).
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import type * as ChannelBinding from "./ChannelBinding.js"
import * as ChannelBindingChoice from "./ChannelBindingChoice.js"
import * as SaslPrep from "./SaslPrep.js"
import { SaslMechanismError } from "./SaslMechanismError.js"
import * as Scram from "./Scram.js"
import * as Utf8 from "../encoding/Utf8.js"
import type { Setting } from "../stream/NegotiationError.js"

/**
 * Every mechanism this client speaks.
 *
 * @since 0.1.0
 */
export type Name =
  | "SCRAM-SHA-512-PLUS"
  | "SCRAM-SHA-256-PLUS"
  | "SCRAM-SHA-1-PLUS"
  | "SCRAM-SHA-512"
  | "SCRAM-SHA-256"
  | "SCRAM-SHA-1"
  | "PLAIN"
  | "EXTERNAL"
  | "ANONYMOUS"

/**
 * Strongest first. EXTERNAL leads because it is only considered when the
 * client presents a certificate; ANONYMOUS only when there are no credentials.
 *
 * @since 0.1.0
 */
export const preference: ReadonlyArray<Name> = [
  "EXTERNAL",
  "SCRAM-SHA-512-PLUS",
  "SCRAM-SHA-256-PLUS",
  "SCRAM-SHA-1-PLUS",
  "SCRAM-SHA-512",
  "SCRAM-SHA-256",
  "SCRAM-SHA-1",
  "PLAIN",
  "ANONYMOUS"
]

/** @since 0.1.0 */
export const isName = (value: string): value is Name => preference.some((name) => name === value)

/**
 * Who the client is: a password account, nobody (ANONYMOUS), or whoever the
 * TLS client certificate says (EXTERNAL).
 *
 * @since 0.1.0
 */
export type Credentials =
  | {
    readonly _tag: "Password"
    readonly username: string
    readonly password: string
    readonly authzid?: string | undefined
  }
  | { readonly _tag: "Anonymous" }
  | { readonly _tag: "Certificate"; readonly authzid?: string | undefined }

/**
 * Which kind of credentials a mechanism needs: EXTERNAL a client
 * certificate, ANONYMOUS none, the others a user name and password.
 *
 * @since 0.1.0
 */
export const requiredCredentials = (name: Name): Credentials["_tag"] =>
  name === "EXTERNAL" ? "Certificate" : name === "ANONYMOUS" ? "Anonymous" : "Password"

/**
 * Everything mechanism choice depends on.
 *
 * @since 0.1.0
 */
export interface SelectInput {
  /** The mechanisms the server offers, as written in `<mechanism/>`. */
  readonly offered: ReadonlyArray<string>
  /** The user's restriction; `undefined` allows every mechanism. */
  readonly allowed: ReadonlyArray<Name> | undefined
  readonly credentials: Credentials
  /** The TLS channel of the stream, when it has one of its own (not BOSH). */
  readonly tls: ChannelBinding.TlsChannel | undefined
  /** The user's `channelBinding` setting; `undefined` means on. */
  readonly channelBinding?: boolean | undefined
  /** Whether the transport is encrypted (TLS or HTTPS). */
  readonly secure: boolean
  /** Allow PLAIN on an unencrypted transport (off by default). */
  readonly allowPlainWithoutTls: boolean
  /** XEP-0440 channel binding types the server lists, if it lists any. */
  readonly serverBindingTypes: ReadonlyArray<ChannelBinding.ChannelBindingType> | undefined
}

/**
 * The chosen mechanism, the SCRAM binding decision (`Unsupported` for the
 * others) and the channel binding choice it came from.
 *
 * @since 0.1.0
 */
export interface Selection {
  readonly name: Name
  readonly scramBinding: Scram.Binding
  readonly channelBinding: ChannelBindingChoice.Choice
}

/**
 * An offered mechanism the client will not use, why, and the setting that
 * would allow it (none when only the server can change it).
 *
 * @since 0.1.0
 */
export interface Refusal {
  readonly name: Name
  readonly reason: string
  readonly setting: Setting | undefined
}

const scramHash = (name: Name): Scram.Hash | undefined =>
  name.startsWith("SCRAM-SHA-512") ? "SHA-512" : name.startsWith("SCRAM-SHA-256") ? "SHA-256" :
  name.startsWith("SCRAM-SHA-1") ? "SHA-1" : undefined

const credentialsReason = { Certificate: "a client certificate", Anonymous: "no account", Password: "a password" } as const

/**
 * Goes through the offered mechanisms strongest first: the first usable one
 * is the selection; every offered one before it that the client will not use
 * is a refusal (all of them when none is usable).
 *
 * @since 0.1.0
 */
export const evaluate = (
  input: SelectInput
): { readonly selection: Selection | undefined; readonly refusals: ReadonlyArray<Refusal> } => {
  const offered = new Set(input.offered)
  const allowed = (name: Name) => input.allowed === undefined || input.allowed.includes(name)
  const channelBinding = ChannelBindingChoice.choose({
    channel: input.tls,
    enabled: input.channelBinding !== false,
    serverTypes: input.serverBindingTypes
  })
  const plusOffered = preference.filter((name) => name.endsWith("-PLUS") && offered.has(name))
  // The user's own list leaving out every -PLUS the server offers is a choice, not a downgrade: `n`.
  const plusExcludedByUser = plusOffered.length > 0 && !plusOffered.some(allowed)
  const refusals: Array<Refusal> = []
  const refuse = (name: Name, reason: string, setting: Setting | undefined) => {
    refusals.push({ name, reason, setting })
  }
  const done = (name: Name, scramBinding: Scram.Binding) => ({
    selection: { name, scramBinding, channelBinding },
    refusals
  })
  for (const name of preference) {
    if (!offered.has(name)) continue
    if (!allowed(name)) {
      refuse(name, "is not in the allowed list", "mechanisms")
      continue
    }
    const needs = requiredCredentials(name)
    if (input.credentials._tag !== needs) {
      refuse(name, `needs ${credentialsReason[needs]}`, `credentials.${needs}`)
      continue
    }
    if (name === "EXTERNAL" && !input.secure) {
      refuse(name, "needs TLS to present the client certificate", undefined)
      continue
    }
    if (name === "PLAIN" && !input.secure && !input.allowPlainWithoutTls) {
      refuse(name, "would send the password on an unencrypted stream", "allowPlainWithoutTls")
      continue
    }
    if (scramHash(name) === undefined) return done(name, { _tag: "Unsupported" })
    if (name.endsWith("-PLUS")) {
      if (channelBinding._tag === "Bind") return done(name, { _tag: "Bound", binding: channelBinding.binding })
      refuse(name, `needs channel binding, but ${channelBinding.reason}`,
        input.channelBinding === false ? "channelBinding" : undefined)
      continue
    }
    // A client that could bind but binds nothing says `y`: a server that does
    // bind then fails the login, so a stripped offer is noticed.
    const couldBind = channelBinding._tag !== "Unavailable" && !plusExcludedByUser
    return done(name, couldBind ? { _tag: "ServerDoesNotSupport" } : { _tag: "Unsupported" })
  }
  return { selection: undefined, refusals }
}

/**
 * The refusals as text for an error message, starting with ": " (empty when
 * there is nothing to say): one clause per reason, each naming the setting
 * that would allow it, and whether the mechanism the credentials need is
 * offered at all.
 *
 * @since 0.1.0
 */
export const describeRefusals = (
  offered: ReadonlyArray<string>,
  refusals: ReadonlyArray<Refusal>,
  credentials: Credentials
): string => {
  // "SCRAM-SHA-256 and PLAIN each need…" reads better than the same words four times.
  const groups = new Map<string, Array<string>>()
  for (const { name, reason, setting } of refusals) {
    const key = `${reason}${setting === undefined ? "" : ` (setting ${setting})`}`
    groups.set(key, [...(groups.get(key) ?? []), name])
  }
  const reasons = [...groups].map(([reason, names]) =>
    names.length === 1 ? `${names.join("")} ${reason}` : `${names.slice(0, -1).join(", ")} and ${names.at(-1)} each ${reason}`
  )
  const unknown = offered.filter((name) => !isName(name))
  if (unknown.length > 0) reasons.push(`${unknown.join(", ")} not spoken by this client`)
  const only = credentials._tag === "Certificate" ? "EXTERNAL" : credentials._tag === "Anonymous" ? "ANONYMOUS" : undefined
  if (only !== undefined && !offered.includes(only)) reasons.unshift(`the server does not offer ${only} here`)
  return reasons.length === 0 ? "" : `: ${reasons.join("; ")}`
}

/**
 * Picks the strongest usable mechanism, or `undefined` when none fits.
 *
 * @since 0.1.0
 */
export const select = (input: SelectInput): Selection | undefined => evaluate(input).selection

/**
 * A running mechanism, named for what it waits for.
 *
 * @since 0.1.0
 */
export type Session =
  | { readonly _tag: "AwaitingOutcome"; readonly name: Name }
  | { readonly _tag: "Scram"; readonly name: Name; readonly scram: Scram.State }

/**
 * What the mechanism wants next.
 *
 * @since 0.1.0
 */
export type Step =
  | { readonly _tag: "Respond"; readonly session: Session; readonly response: Uint8Array }
  | { readonly _tag: "Compute"; readonly session: Session; readonly request: Scram.ComputeRequest }
  | { readonly _tag: "Authenticated"; readonly keys: Scram.Keys | undefined }
  | { readonly _tag: "Failed"; readonly error: SaslMechanismError }

/**
 * What the mechanism is fed: a `<challenge/>`, the `<success/>` (with its
 * additional data, if any), or the result of a requested computation.
 *
 * @since 0.1.0
 */
export type Input =
  | { readonly _tag: "Challenge"; readonly data: Uint8Array }
  | { readonly _tag: "Success"; readonly data: Uint8Array | undefined }
  | { readonly _tag: "Computed"; readonly computed: Scram.Computed }

/**
 * Options that only some mechanisms use.
 *
 * @since 0.1.0
 */
export interface StartOptions {
  /** Client nonce for SCRAM, from a secure random source. */
  readonly clientNonce: string
  readonly minIterations?: number | undefined
  readonly maxIterations?: number | undefined
  readonly cachedKeys?: Scram.Keys | undefined
}

const invalid = (name: Name, message: string) =>
  Result.fail(new SaslMechanismError({ reason: "invalid-credentials", message, mechanism: name }))

/**
 * Starts the selected mechanism; returns its session and initial response.
 *
 * @since 0.1.0
 */
export const start = (
  selection: Pick<Selection, "name" | "scramBinding">,
  credentials: Credentials,
  options: StartOptions
): Result.Result<{ readonly session: Session; readonly initialResponse: Uint8Array }, SaslMechanismError> => {
  const name = selection.name
  const hash = scramHash(name)
  if (hash !== undefined) {
    if (credentials._tag !== "Password") return invalid(name, "SCRAM needs a user name and password")
    return Result.map(
      Scram.start({
        hash,
        username: credentials.username,
        password: credentials.password,
        authzid: credentials.authzid,
        clientNonce: options.clientNonce,
        binding: selection.scramBinding,
        minIterations: options.minIterations,
        maxIterations: options.maxIterations,
        cachedKeys: options.cachedKeys
      }),
      ({ initialResponse, state }) => ({ session: { _tag: "Scram", name, scram: state }, initialResponse })
    )
  }
  const session: Session = { _tag: "AwaitingOutcome", name }
  switch (name) {
    case "PLAIN": {
      if (credentials._tag !== "Password") return invalid(name, "PLAIN needs a user name and password")
      // RFC 4616: [authzid] NUL authcid NUL passwd, the last two prepared.
      const username = SaslPrep.prepare(credentials.username)
      const password = SaslPrep.prepare(credentials.password)
      if (Result.isFailure(username)) return invalid(name, `user name: ${username.failure.message}`)
      if (Result.isFailure(password)) return invalid(name, `password: ${password.failure.message}`)
      const message = `${credentials.authzid ?? ""}\u0000${username.success}\u0000${password.success}`
      return Result.succeed({ session, initialResponse: Utf8.encode(message) })
    }
    case "EXTERNAL": {
      // RFC 4422 Appendix A: the initial response is the authzid, or empty.
      const authzid = credentials._tag === "Certificate" ? credentials.authzid ?? "" : ""
      return Result.succeed({ session, initialResponse: Utf8.encode(authzid) })
    }
    default:
      // ANONYMOUS (RFC 4505): an empty trace token.
      return Result.succeed({ session, initialResponse: new Uint8Array(0) })
  }
}

/**
 * Feeds one server message (or a computed result) to the mechanism.
 *
 * @since 0.1.0
 */
export const step = (session: Session, input: Input): Step => {
  const failed = (reason: SaslMechanismError["reason"], message: string): Step => ({
    _tag: "Failed",
    error: new SaslMechanismError({ reason, message, mechanism: session.name })
  })
  if (session._tag === "AwaitingOutcome") {
    if (input._tag === "Success") return { _tag: "Authenticated", keys: undefined }
    return failed("unexpected-challenge", `${session.name} expects no challenge`)
  }
  const scram = session.scram
  switch (scram._tag) {
    case "AwaitingServerFirst": {
      if (input._tag !== "Challenge") {
        return failed("malformed-challenge", "the server ended SCRAM before sending its first message")
      }
      const next = Scram.receiveServerFirst(scram, input.data)
      if (Result.isFailure(next)) return { _tag: "Failed", error: next.failure }
      return { _tag: "Compute", session: { ...session, scram: next.success.state }, request: next.success.request }
    }
    case "AwaitingProof": {
      if (input._tag !== "Computed") return failed("unexpected-challenge", "a server message came before the proof")
      const next = Scram.receiveComputed(scram, input.computed)
      return { _tag: "Respond", session: { ...session, scram: next.state }, response: next.response }
    }
    case "AwaitingServerFinal": {
      if (input._tag === "Computed") return failed("unexpected-challenge", "nothing to compute")
      // RFC 6120 §6.3.10: the server-final usually rides in <success/>, but a
      // server may send it as a last challenge and then an empty success.
      if (input.data === undefined || input.data.length === 0) {
        return failed("invalid-server-signature", "the server did not send its signature")
      }
      const keys = Scram.receiveServerFinal(scram, input.data)
      if (Result.isFailure(keys)) return { _tag: "Failed", error: keys.failure }
      if (input._tag === "Success") return { _tag: "Authenticated", keys: keys.success }
      return {
        _tag: "Respond",
        session: { ...session, scram: { _tag: "AwaitingSuccess", mechanism: scram.mechanism, keys: keys.success } },
        response: new Uint8Array(0)
      }
    }
    case "AwaitingSuccess": {
      if (input._tag === "Success" && (input.data === undefined || input.data.length === 0)) {
        return { _tag: "Authenticated", keys: scram.keys }
      }
      return failed("unexpected-challenge", "SCRAM is complete; only an empty success may follow")
    }
  }
}
