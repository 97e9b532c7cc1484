/**
 * The configuration of `XmppClient.connect`, decoded with `Schema` from
 * whatever the application reads (a config file, CLI flags). Secure by
 * default: absent fields mean the strict choice, certificates are always
 * verified, and the password stays `Redacted` from decoding to the wire.
 *
 * @since 0.1.0
 */
import * as SessionSettings from "./session/SessionSettings.js"
import { BoshOptions, Jid, SaslMechanism, XmlLimits } from "@xmpp-core/protocol"
import { Result, Schema } from "effect"
import { BoshHttpMode, PooledHold } from "./http/BoshHttpConfig.js"
import { ClientCertificate } from "./net/ClientCertificate.js"
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
 * XMPP over TCP (RFC 6120). Without `host` and `port`, the domain's SRV
 * records are looked up; a `port` alone connects to the domain at that port; `directTls` chooses TLS from the first byte (XEP-0368) over STARTTLS.
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
 * XMPP over BOSH (XEP-0124/0206) through a connection manager at `url`.
 *
 * - `mode`: how HTTP requests map to connections (see `BoshHttpConfig`);
 *   default `keep-alive`. `pipelining` is refused unless `hold` is 0: with a
 *   held request on the connection, every request behind it waits up to
 *   `wait` (measured on Prosody 0.12 and ejabberd 23.01, which serve one
 *   request per connection at a time; ejabberd also answers two requests
 *   in one read with 400).
 * - `proxies`: at most one `HttpConnect` proxy (with optional credentials):
 *   requests to an `http://` manager are forwarded through it, an
 *   `https://` manager is reached through a CONNECT tunnel. SOCKS5 is not
 *   offered by the BOSH HTTP layer and is refused, never skipped.
 * - `hold`, `wait`, `route`, `requestTimeout`: the session's own settings,
 *   with the bounds and defaults of `BoshOptions` in `@xmpp-core/protocol`
 *   (hold 1, wait 60 s), `hold` at most 16 (the HTTP pool, see `PooledHold`).
 * - `route`: XEP-0124 `route` (`xmpp:host:port`) for a standalone manager.
 * - `closeTimeout`: milliseconds `close` waits for the terminate's answer (default 10,000).
 * - `requestTimeout`: milliseconds to wait for the answers a manager gives at
 *   once (session creation, restart, terminate); default 10,000. A silent
 *   manager fails the connection after this, not after `wait`.
 *
 * The channel is encrypted only with an `https://` URL; over `http://` the
 * login needs `allowPlaintext` (and PLAIN also `allowPlainWithoutTls`).
 *
 * @since 0.1.0
 */
export const BoshTransport = Schema.TaggedStruct("bosh", {
  url: Schema.String.check(
    Schema.isPattern(/^https?:\/\/[^\s/?#]+[^\s]*$/i, { message: "expected an absolute http:// or https:// URL" })
  ),
  /** How HTTP requests map to connections (see `BoshHttpConfig`). */
  mode: Schema.optionalKey(BoshHttpMode),
  proxies: Schema.optionalKey(Schema.Array(Proxy)),
  hold: Schema.optionalKey(PooledHold),
  wait: Schema.optionalKey(BoshOptions.Wait),
  route: Schema.optionalKey(BoshOptions.Route),
  closeTimeout: Schema.optionalKey(PositiveInt),
  requestTimeout: Schema.optionalKey(BoshOptions.RequestTimeoutMs)
}).check(
  Schema.makeFilter((bosh) =>
    bosh.mode === "pipelining" && bosh.hold !== 0
      ? "HTTP pipelining needs hold 0: a request pipelined behind a held one waits up to `wait` seconds " +
        "(Prosody and ejabberd serve one request per connection at a time); use mode keep-alive"
      : undefined
  )
)

/**
 * A JID as text, checked (RFC 7622) when decoded.
 *
 * @since 0.1.0
 */
export const JidString = Schema.String.check(
  Schema.makeFilter((input: string) => {
    const parsed = Jid.parse(input)
    return Result.isFailure(parsed) ? parsed.failure.message : undefined
  })
)

/**
 * Who logs in, when it is not the account of `jid` with `password` (SCRAM or
 * PLAIN, the default):
 *
 * - `Anonymous`: SASL ANONYMOUS on the domain `jid` names (no localpart); the
 *   server makes up a JID, which the client reports as its `jid`.
 * - `Certificate`: SASL EXTERNAL with a TLS client certificate, presented in
 *   every TLS handshake (direct TLS, STARTTLS, each HTTPS connection of
 *   BOSH). `jid` is the domain, or an account the certificate names, which
 *   is then sent as the authorization identity.
 *
 * @since 0.1.0
 */
export const AccountCredentials = Schema.Union([
  Schema.TaggedStruct("Anonymous", {}),
  Schema.TaggedStruct("Certificate", ClientCertificate.fields)
])

const credentialsTag = (config: { readonly credentials?: { readonly _tag: "Anonymous" | "Certificate" } }) =>
  config.credentials?._tag ?? "Password"

const credentialsHint = {
  Password: "a JID with a localpart and a password (setting credentials.Password)",
  Anonymous: "no account (setting credentials.Anonymous)",
  Certificate: "a client certificate (setting credentials.Certificate)"
} as const

// The account, the password and the mechanism list must fit the kind of
// credentials: a name the configuration cannot use is refused before connecting.
/** Without the platform's roots, only `ca` is trusted: it must be there, or no server could be. */
const trustsSomething = Schema.makeFilter((config: { readonly ca?: string; readonly systemRoots?: boolean }) =>
  config.systemRoots === false && config.ca === undefined
    ? { path: ["ca"], issue: "with systemRoots false only `ca` is trusted: give the CA certificates to trust" }
    : undefined
)

const fitsCredentials = Schema.makeFilter((config: {
  readonly jid: string
  readonly password?: unknown
  readonly credentials?: { readonly _tag: "Anonymous" | "Certificate" }
  readonly mechanisms?: ReadonlyArray<SaslMechanism.Name>
}) => {
  const kind = credentialsTag(config)
  const jid = Jid.parse(config.jid)
  const local = Result.isSuccess(jid) ? jid.success.local : undefined
  if (kind === "Password" && local === undefined) {
    return {
      path: ["jid"],
      issue: "a JID with a localpart (the account name) is required, or no account (setting credentials.Anonymous)"
    }
  }
  if (kind === "Password" && config.password === undefined) {
    return { path: ["password"], issue: "a password is required for a login to an account" }
  }
  if (kind === "Anonymous" && local !== undefined) {
    return { path: ["jid"], issue: "ANONYMOUS logs in to a domain: give the domain only, the server assigns the JID" }
  }
  const unusable = (config.mechanisms ?? []).filter((name) => SaslMechanism.requiredCredentials(name) !== kind)
  if (unusable.length > 0) {
    const needs = unusable.map((name) => `${name} needs ${credentialsHint[SaslMechanism.requiredCredentials(name)]}`)
    return { path: ["mechanisms"], issue: `not usable with this configuration: ${needs.join("; ")}` }
  }
  return undefined
})

/**
 * @since 0.1.0
 */
export const XmppClientConfig = Schema.Struct({
  ...SaslSettings.fields,
  /**
   * The account, `user@domain` (a resource here is used when `resource` is
   * absent); only the domain with `credentials` Anonymous.
   */
  jid: JidString,
  /** The account's password; needed unless `credentials` says otherwise. */
  password: Schema.optionalKey(Schema.RedactedFromValue(Schema.String)),
  /** Absent: the account's password. See {@link AccountCredentials}. */
  credentials: Schema.optionalKey(AccountCredentials),
  /** Default: TCP to the domain's SRV endpoints. */
  transport: Schema.optionalKey(Schema.Union([TcpTransport, BoshTransport])),
  /**
   * XEP-0198 stream management, when the server offers it: absent, on with every default;
   * `{ enabled: false }`, off. See `SessionSettings.StreamManagementSettings`.
   */
  streamManagement: Schema.optionalKey(SessionSettings.StreamManagementSettings),
  /** Reconnect (and resume) after a lost link: absent, never. See `SessionSettings.ReconnectSettings`. */
  reconnect: Schema.optionalKey(SessionSettings.ReconnectSettings),
  /** XEP-0199 pings that find a dead link: absent, none. See `SessionSettings.PingSettings`. */
  ping: Schema.optionalKey(SessionSettings.PingSettings),
  /**
   * PEM certificates to trust besides the platform's roots (a private or
   * test CA), on every transport.
   */
  ca: Schema.optionalKey(Schema.String),
  /**
   * Whether the platform's roots are trusted (default `true`); `false`
   * trusts `ca` alone, which then must be given.
   */
  systemRoots: Schema.optionalKey(Schema.Boolean),
  limits: Schema.optionalKey(XmlLimits.PartialXmlLimits)
}).check(fitsCredentials, trustsSomething)

/** @since 0.1.0 */
export type XmppClientConfig = typeof XmppClientConfig.Type

/** A SASL mechanism name, as `mechanisms` lists them. @since 0.1.0 */
export type Mechanism = SaslMechanism.Name

/** @since 0.1.0 */
export type TcpTransport = typeof TcpTransport.Type

/** @since 0.1.0 */
export type BoshTransport = typeof BoshTransport.Type

/**
 * Decodes a configuration from unknown input, with a `SchemaError` saying what is wrong.
 *
 * @since 0.1.0
 */
export const decode = Schema.decodeUnknownResult(XmppClientConfig)
