/**
 * Logging in on an open transport: the account's SASL credentials, the
 * negotiation options a configuration gives, negotiation itself with its
 * failures as the client's errors, and those errors' mapping. Shared by
 * the plain client and the stream-managed one.
 *
 * @since 0.1.0
 */
import { Jid, type Negotiation, type SaslMechanism } from "@xmpp-core/protocol"
import type * as CryptoError from "effect/crypto/CryptoError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as StreamNegotiator from "../stream/StreamNegotiator.js"
import type * as Transport from "../transport/Transport.js"
import type { TransportError } from "../transport/TransportError.js"
import type { XmppClientConfig } from "../XmppClientConfig.js"
import { XmppClientError } from "../XmppClientError.js"

/**
 * Negotiation settings: the account and the SASL choices of a configuration.
 *
 * @since 0.1.0
 */
export type Settings = Omit<XmppClientConfig, "transport" | "ca" | "systemRoots" | "limits">

/**
 * A transport failure as the client's error: `reason` before the stream was
 * bound (`ConnectFailed`) or after (`ConnectionLost`); a stream error and a
 * close keep their own.
 *
 * @since 0.1.0
 */
export const fromTransportError = (reason: "ConnectFailed" | "ConnectionLost") => (error: TransportError) =>
  new XmppClientError({
    // A stream error is the server's word, whenever it comes: during login or after.
    reason: error.reason === "Closed" ? "Closed" : error.reason === "StreamError" ? "StreamError" : reason,
    message: error.message,
    // BOSH names its own conditions (item-not-found, see-other-uri…); TCP has only the reason.
    condition: error.condition ?? error.reason,
    cause: error
  })

/**
 * A failed login as the client's error, with its condition.
 *
 * @since 0.1.0
 */
export const fromNegotiationError = (
  error: Negotiation.Error | TransportError | CryptoError.CryptoError
): XmppClientError => {
  switch (error._tag) {
    case "TransportError":
      return fromTransportError("ConnectFailed")(error)
    case "SaslFailure":
    case "SaslMechanismError":
      return new XmppClientError({ reason: "AuthenticationFailed", message: error.message, condition: error.reason, cause: error })
    case "StreamError":
      return new XmppClientError({ reason: "StreamError", message: error.message, condition: error.reason, cause: error })
    case "NegotiationError":
      return new XmppClientError({ reason: "NegotiationFailed", message: error.message, condition: error.reason, cause: error })
    default:
      return new XmppClientError({ reason: "AuthenticationFailed", message: `SASL crypto failed: ${error.message}`, cause: error })
  }
}

/**
 * The SASL credentials of a configuration: the account's password, nobody
 * (ANONYMOUS), or the client certificate (EXTERNAL, with the account as
 * authorization identity when `jid` names one).
 *
 * @since 0.1.0
 */
export const saslCredentials = (
  settings: Pick<Settings, "password" | "credentials">,
  jid: Jid.Jid
): Result.Result<SaslMechanism.Credentials, XmppClientError> => {
  switch (settings.credentials?._tag) {
    case "Anonymous":
      return Result.succeed({ _tag: "Anonymous" })
    case "Certificate":
      return Result.succeed({
        _tag: "Certificate",
        authzid: jid.local === undefined ? undefined : Jid.format(Jid.bare(jid))
      })
    case undefined:
      if (jid.local === undefined || settings.password === undefined) {
        return Result.fail(new XmppClientError({ reason: "InvalidConfig", message: "a password login needs a JID with a localpart and a password" }))
      }
      return Result.succeed({ _tag: "Password", username: jid.local, password: Redacted.value(settings.password) })
  }
}

/**
 * The account of `settings`, parsed.
 *
 * @since 0.1.0
 */
export const account = (settings: Pick<Settings, "jid">): Result.Result<Jid.Jid, XmppClientError> =>
  Result.mapError(
    Jid.parse(settings.jid),
    (error) => new XmppClientError({ reason: "InvalidConfig", message: `invalid JID: ${error.message}` })
  )

/**
 * Negotiates on `transport` until bound (or resumed, with `resume`; SCRAM
 * skips PBKDF2 with `cachedKeys` from an earlier login when the salt matches), with
 * failures as the client's errors. A refused login still ends the stream
 * politely; a broken transport cannot.
 *
 * @since 0.1.0
 */
export const login = (
  transport: Transport.Transport,
  settings: Settings,
  resume?: Negotiation.Config["resume"],
  cachedKeys?: Negotiation.Config["cachedKeys"]
) =>
  Effect.gen(function*() {
    const jid = yield* Effect.fromResult(account(settings))
    const credentials = yield* Effect.fromResult(saslCredentials(settings, jid))
    return yield* StreamNegotiator.negotiate(transport, {
      transport: transport.kind,
      domain: jid.domain,
      credentials,
      resource: settings.resource ?? jid.resource,
      mechanisms: settings.mechanisms,
      allowPlaintext: settings.allowPlaintext,
      allowPlainWithoutTls: settings.allowPlainWithoutTls,
      channelBinding: settings.channelBinding,
      minIterations: settings.minIterations,
      maxIterations: settings.maxIterations,
      featuresTimeout: settings.featuresTimeout,
      responseTimeout: settings.responseTimeout,
      tls: Option.getOrUndefined(transport.channel),
      secure: transport.secure,
      resume,
      cachedKeys
    }).pipe(
      Effect.tapError((error) => error._tag === "TransportError" ? Effect.void : Effect.ignore(transport.close())),
      Effect.mapError(fromNegotiationError)
    )
  })
