/**
 * The configuration of `XmppClient.connect`, decoded with `Schema` from
 * whatever the application reads (a config file, CLI flags). Secure by
 * default: absent fields mean the strict choice, certificates are always
 * verified, and the password stays `Redacted` from decoding to the wire.
 *
 * @since 0.1.0
 */
import { Jid, type SaslMechanism, XmlLimits } from "@xmpp-core/protocol"
import { Result, Schema } from "effect"
import { BoshHttpMode } from "./http/BoshHttpConfig.js"
import { SaslSettings } from "./sasl/SaslSettings.js"

const PortNumber = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

const Credentials = Schema.Struct({
  username: Schema.String,
  password: Schema.RedactedFromValue(Schema.String)
})

/**
 * One proxy of a chain: HTTP CONNECT or SOCKS5, optionally with credentials
 * (the shape of `Route.Proxy`).
 *
 * @since 0.1.0
 */
export const Proxy = Schema.Union([
  Schema.TaggedStruct("HttpConnect", {
    host: Schema.NonEmptyString,
    port: PortNumber,
    credentials: Schema.optionalKey(Credentials)
  }),
  Schema.TaggedStruct("Socks5", {
    host: Schema.NonEmptyString,
    port: PortNumber,
    credentials: Schema.optionalKey(Credentials)
  })
])

/**
 * XMPP over TCP (RFC 6120). Without `host`, the domain's SRV records are
 * looked up; `directTls` chooses TLS from the first byte (XEP-0368) over STARTTLS.
 *
 * @since 0.1.0
 */
export const TcpTransport = Schema.TaggedStruct("tcp", {
  host: Schema.optionalKey(Schema.NonEmptyString),
  port: Schema.optionalKey(PortNumber),
  directTls: Schema.optionalKey(Schema.Boolean),
  proxies: Schema.optionalKey(Schema.Array(Proxy)),
  /** The highest TLS version to offer; `TLSv1.2` where -PLUS needs `tls-unique`. */
  maxTlsVersion: Schema.optionalKey(Schema.Literals(["TLSv1.2", "TLSv1.3"])),
  /** Milliseconds `close` waits for the server's `</stream:stream>`. Default 2000. */
  closeTimeout: Schema.optionalKey(PositiveInt)
})

/**
 * XMPP over BOSH (XEP-0124/0206). Decodes, but this build has no BOSH
 * transport yet: `connect` fails with `TransportUnavailable`.
 *
 * @since 0.1.0
 */
export const BoshTransport = Schema.TaggedStruct("bosh", {
  url: Schema.NonEmptyString,
  /** How HTTP requests map to connections (see `BoshHttpConfig`). */
  mode: Schema.optionalKey(BoshHttpMode),
  proxies: Schema.optionalKey(Schema.Array(Proxy))
})

/**
 * A JID as text, checked (RFC 7622) when decoded.
 *
 * @since 0.1.0
 */
export const JidString = Schema.String.check(
  Schema.makeFilter((input: string) => {
    const parsed = Jid.parse(input)
    if (Result.isFailure(parsed)) return parsed.failure.message
    return parsed.success.local === undefined ? "a JID with a localpart (the account name) is required" : undefined
  })
)

/**
 * @since 0.1.0
 */
export const XmppClientConfig = Schema.Struct({
  ...SaslSettings.fields,
  /** The account, `user@domain` (a resource here is used when `resource` is absent). */
  jid: JidString,
  password: Schema.RedactedFromValue(Schema.String),
  /** Default: TCP to the domain's SRV endpoints. */
  transport: Schema.optionalKey(Schema.Union([TcpTransport, BoshTransport])),
  /** PEM trust anchors replacing the system's, for a private or test CA. */
  ca: Schema.optionalKey(Schema.String),
  limits: Schema.optionalKey(XmlLimits.PartialXmlLimits)
})

/** @since 0.1.0 */
export type XmppClientConfig = typeof XmppClientConfig.Type

/** A SASL mechanism name, as `mechanisms` lists them. @since 0.1.0 */
export type Mechanism = SaslMechanism.Name

/** @since 0.1.0 */
export type TcpTransport = typeof TcpTransport.Type

/**
 * Decodes a configuration from unknown input, with a `SchemaError` saying what is wrong.
 *
 * @since 0.1.0
 */
export const decode = Schema.decodeUnknownResult(XmppClientConfig)
