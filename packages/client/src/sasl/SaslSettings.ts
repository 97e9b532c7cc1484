/**
 * The user-facing authentication settings, decoded with `Schema` from
 * whatever the application reads (a config file, CLI flags). Secure by
 * default: every field is optional and its absence means the strict choice.
 *
 * @since 0.1.0
 */
import { SaslMechanism } from "@xmpp-core/protocol"
import { Schema } from "effect"

/**
 * A SASL mechanism name this client speaks.
 *
 * @since 0.1.0
 */
export const Mechanism = Schema.Literals(SaslMechanism.preference)

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/**
 * @since 0.1.0
 */
export const SaslSettings = Schema.Struct({
  /** Restrict the mechanisms; absent: all, strongest first. */
  mechanisms: Schema.optionalKey(Schema.Array(Mechanism)),
  /** Authenticate on an unencrypted stream. Default false. */
  allowPlaintext: Schema.optionalKey(Schema.Boolean),
  /** Let PLAIN send the password on an unencrypted stream. Default false. */
  allowPlainWithoutTls: Schema.optionalKey(Schema.Boolean),
  /** Bind SCRAM to the TLS channel (-PLUS) when possible. Default true. */
  channelBinding: Schema.optionalKey(Schema.Boolean),
  /** Fewest SCRAM iterations accepted. Default 4096. */
  minIterations: Schema.optionalKey(PositiveInt),
  /** Most SCRAM iterations accepted. Default 1,000,000. */
  maxIterations: Schema.optionalKey(PositiveInt),
  /** Resource to bind; absent: the server picks one. */
  resource: Schema.optionalKey(Schema.NonEmptyString),
  /** Milliseconds to wait for stream features. Default 30,000. */
  featuresTimeout: Schema.optionalKey(PositiveInt),
  /** Milliseconds to wait for any other answer. Default 30,000. */
  responseTimeout: Schema.optionalKey(PositiveInt)
})

/** @since 0.1.0 */
export type SaslSettings = typeof SaslSettings.Type

/**
 * Decodes settings from unknown input, with a `SchemaError` saying what is wrong.
 *
 * @since 0.1.0
 */
export const decode = Schema.decodeUnknownResult(SaslSettings)
