/**
 * The connection flags shared by `connect`, `send` and `echo`, and their
 * translation into an `XmppClientConfig`, decoded with its Schema so the CLI
 * accepts exactly what the client accepts.
 *
 * @since 0.1.0
 */
import { ServerLookup, XmppClientConfig } from "@xmpp-core/client"
import { Effect, Option, type Redacted, Result } from "effect"
import { Flag } from "effect/cli"
import { readFileSync } from "node:fs"
import { DemoError } from "./DemoError.js"

/**
 * @since 0.1.0
 */
export const connection = {
  jid: Flag.String("jid").pipe(
    Flag.withDescription("the account, user@domain[/resource]; with --anonymous only the domain")
  ),
  passwordEnv: Flag.String("password-env").pipe(
    Flag.withDescription("environment variable holding the password (without it, a terminal prompt asks)"),
    Flag.withDefault("XMPP_PASSWORD")
  ),
  transport: Flag.Literals("transport", ["tcp", "bosh"]).pipe(
    Flag.withDescription("XMPP over TCP (RFC 6120) or BOSH (XEP-0206)"),
    Flag.withDefault("tcp")
  ),
  host: Flag.String("host").pipe(Flag.withDescription("server host (default: the JID's domain; its DNS SRV records unless --port is given)"), Flag.optional),
  port: Flag.Int("port").pipe(Flag.withDescription(
    `server port (default ${ServerLookup.defaultPort}, or ${ServerLookup.defaultDirectTlsPort} with --direct-tls)`
  ), Flag.optional),
  directTls: Flag.Boolean("direct-tls").pipe(
    Flag.withDescription("TLS from the first byte (XEP-0368) instead of STARTTLS"),
    Flag.withDefault(false)
  ),
  proxy: Flag.String("proxy").pipe(
    Flag.withDescription("proxy, repeatable, in order: http://[user:pass@]host:port (CONNECT) or socks5://[user:pass@]host:port"),
    Flag.atLeast(0)
  ),
  boshUrl: Flag.String("bosh-url").pipe(Flag.withDescription("BOSH connection manager URL (with --transport bosh)"), Flag.optional),
  httpMode: Flag.Literals("http-mode", ["close", "keep-alive", "pipelining"]).pipe(
    Flag.withDescription("BOSH HTTP connections: close, keep-alive (default) or pipelining"),
    Flag.optional
  ),
  ca: Flag.String("ca").pipe(Flag.withDescription("PEM file of CA certificates to trust besides the system's"), Flag.optional),
  systemRoots: Flag.Boolean("system-roots").pipe(
    Flag.withDescription("trust the system's CA certificates (--no-system-roots: trust only --ca)"),
    Flag.withDefault(true)
  ),
  clientCert: Flag.String("client-cert").pipe(
    Flag.withDescription("PEM file of a TLS client certificate: log in with SASL EXTERNAL, no password (with --client-key)"),
    Flag.optional
  ),
  clientKey: Flag.String("client-key").pipe(
    Flag.withDescription("PEM file of the client certificate's private key (with --client-cert)"),
    Flag.optional
  ),
  anonymous: Flag.Boolean("anonymous").pipe(
    Flag.withDescription("log in with SASL ANONYMOUS, no account: --jid is the domain, the server assigns the JID"),
    Flag.withDefault(false)
  ),
  allowPlaintext: Flag.Boolean("allow-plaintext").pipe(
    Flag.withDescription("allow authenticating on an unencrypted stream"),
    Flag.withDefault(false)
  ),
  allowPlainWithoutTls: Flag.Boolean("allow-plain-without-tls").pipe(
    Flag.withDescription("allow SASL PLAIN to send the password without TLS"),
    Flag.withDefault(false)
  ),
  channelBinding: Flag.Boolean("channel-binding").pipe(
    Flag.withDescription("SCRAM -PLUS channel binding when offered (--no-channel-binding to disable)"),
    Flag.withDefault(true)
  ),
  streamManagement: Flag.Boolean("stream-management").pipe(
    Flag.withDescription(
      "XEP-0198 when the server offers it: acknowledgements, a dead link found by an unanswered <r/>, resumption with --reconnect (--no-stream-management to disable)"
    ),
    Flag.withDefault(true)
  ),
  reconnect: Flag.Boolean("reconnect").pipe(
    Flag.withDescription("after a lost link, reconnect with backoff (and resume, with stream management)"),
    Flag.withDefault(false)
  ),
  maxTls: Flag.Literals("max-tls", ["1.2", "1.3"]).pipe(Flag.withDescription("highest TLS version to offer"), Flag.optional),
  mechanisms: Flag.String("mechanisms").pipe(
    Flag.withDescription("comma-separated SASL mechanisms to allow, e.g. SCRAM-SHA-256,PLAIN"),
    Flag.optional
  ),
  resource: Flag.String("resource").pipe(Flag.withDescription("resource to bind"), Flag.optional),
  debug: Flag.Boolean("debug").pipe(
    Flag.withDescription("XML console on stderr (SASL secrets redacted)"),
    Flag.withDefault(false)
  )
} as const

/**
 * The parsed connection flags.
 *
 * @since 0.1.0
 */
export interface ConnectionFlags {
  readonly jid: string
  readonly passwordEnv: string
  readonly transport: "tcp" | "bosh"
  readonly host: Option.Option<string>
  readonly port: Option.Option<number>
  readonly directTls: boolean
  readonly proxy: ReadonlyArray<string>
  readonly boshUrl: Option.Option<string>
  readonly httpMode: Option.Option<"close" | "keep-alive" | "pipelining">
  readonly ca: Option.Option<string>
  readonly systemRoots: boolean
  readonly clientCert: Option.Option<string>
  readonly clientKey: Option.Option<string>
  readonly anonymous: boolean
  readonly allowPlaintext: boolean
  readonly allowPlainWithoutTls: boolean
  readonly channelBinding: boolean
  readonly streamManagement: boolean
  readonly reconnect: boolean
  readonly maxTls: Option.Option<"1.2" | "1.3">
  readonly mechanisms: Option.Option<string>
  readonly resource: Option.Option<string>
  readonly debug: boolean
}

const invalid = (message: string) => new DemoError({ reason: "InvalidFlags", message })

/**
 * One `--proxy` URL as the config's proxy shape (validated by the Schema later).
 *
 * @since 0.1.0
 */
export const parseProxy = (text: string): Result.Result<Record<string, unknown>, DemoError> => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // Not echoed: it may hold a proxy password.
    return Result.fail(invalid("--proxy is not a URL: expected http://[user:pass@]host:port or socks5://[user:pass@]host:port"))
  }
  const tag = url.protocol === "http:" ? "HttpConnect" : url.protocol === "socks5:" ? "Socks5" : undefined
  if (tag === undefined) {
    return Result.fail(invalid(`--proxy scheme ${url.protocol} is not supported: use http:// (CONNECT) or socks5://`))
  }
  const port = url.port === "" ? (tag === "HttpConnect" ? 80 : 1080) : Number(url.port)
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname
  const credentials = url.username === ""
    ? {}
    : {
      credentials: {
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password)
      }
    }
  return Result.succeed({ _tag: tag, host, port, ...credentials })
}

const readCa = (file: string): Effect.Effect<string, DemoError> =>
  Effect.try({
    try: () => readFileSync(file, "utf8"),
    catch: (cause) => invalid(`--ca ${file}: ${cause instanceof Error ? cause.message : String(cause)}`)
  }).pipe(
    Effect.filterOrFail(
      (pem) => pem.includes("-----BEGIN CERTIFICATE-----"),
      () => invalid(`--ca ${file}: no PEM certificate in it`)
    )
  )

/**
 * Whether the flags log in to an account with a password (not ANONYMOUS, not
 * a client certificate): only then is a password read.
 *
 * @since 0.1.0
 */
export const needsPassword = (flags: ConnectionFlags): boolean =>
  !flags.anonymous && Option.isNone(flags.clientCert) && Option.isNone(flags.clientKey)

const readPem = (flag: string, file: string, marker: RegExp, what: string): Effect.Effect<string, DemoError> =>
  Effect.try({
    try: () => readFileSync(file, "utf8"),
    catch: (cause) => invalid(`${flag} ${file}: ${cause instanceof Error ? cause.message : String(cause)}`)
  }).pipe(
    // The message never quotes the file: it may be a key.
    Effect.filterOrFail((pem) => marker.test(pem), () => invalid(`${flag} ${file}: no PEM ${what} in it`))
  )

// --client-cert/--client-key or --anonymous as the config's credentials.
const credentials = (flags: ConnectionFlags): Effect.Effect<Record<string, unknown> | undefined, DemoError> =>
  Effect.gen(function*() {
    const certificate = Option.isSome(flags.clientCert) || Option.isSome(flags.clientKey)
    if (certificate && flags.anonymous) return yield* invalid("--anonymous and --client-cert/--client-key exclude each other")
    if (flags.anonymous) return { _tag: "Anonymous" }
    if (!certificate) return undefined
    if (Option.isNone(flags.clientCert) || Option.isNone(flags.clientKey)) {
      return yield* invalid("--client-cert and --client-key go together")
    }
    return {
      _tag: "Certificate",
      certificate: yield* readPem("--client-cert", flags.clientCert.value, /-----BEGIN CERTIFICATE-----/, "certificate"),
      key: yield* readPem("--client-key", flags.clientKey.value, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, "private key")
    }
  })

// Configuration settings, as the client's messages name them ("setting X"), told as the flags that set them.
const flagOfSetting: ReadonlyArray<readonly [string, string]> = [
  ["allowPlainWithoutTls", "--allow-plain-without-tls"],
  ["allowPlaintext", "--allow-plaintext"],
  ["mechanisms", "--mechanisms"],
  ["channelBinding", "--[no-]channel-binding"],
  ["credentials.Certificate", "--client-cert FILE --client-key FILE"],
  ["credentials.Anonymous", "--anonymous"],
  ["credentials.Password", "--jid user@domain and its password"]
]

/**
 * A client message with each "setting X" it names told as the demo's flag.
 *
 * @since 0.1.0
 */
export const withFlagNames = (message: string): string =>
  flagOfSetting.reduce(
    (text, [setting, flag]) => text.replace(new RegExp(`setting ${setting.replace(".", "\\.")}\\b`, "g"), `flag ${flag}`),
    message
  )

// Schema paths of the config, named as the flags that set them.
const flagOfPath: ReadonlyArray<readonly [string, string]> = [
  ['["transport"]["port"]', "--port"],
  ['["transport"]["host"]', "--host"],
  ['["ca"]', "--ca"],
  ['["transport"]["url"]', "--bosh-url"],
  ['["transport"]["proxies"]', "--proxy"],
  ['["transport"]["maxTlsVersion"]', "--max-tls"],
  ['["mechanisms"]', "--mechanisms"],
  ['["resource"]', "--resource"],
  ['["jid"]', "--jid"],
  ['["credentials"]', "--client-cert"]
]

// One line, with `at ["transport"]["port"]` told as `(--port)`.
const schemaMessage = (text: string) => {
  let line = text.replace(/\s*\n\s*/g, "; ")
  for (const [path, flag] of flagOfPath) {
    line = line.replace(new RegExp(`;? ?at ${path.replace(/[[\]]/g, "\\$&")}(\\[\\d+\\])?`, "g"), ` (${flag})`)
  }
  return withFlagNames(line)
}

/**
 * Builds and decodes the client configuration. The password is put in after
 * decoding, so no Schema message can ever quote it.
 *
 * @since 0.1.0
 */
export const toConfig = (
  flags: ConnectionFlags,
  password: Redacted.Redacted<string> | undefined
): Effect.Effect<XmppClientConfig.XmppClientConfig, DemoError> =>
  Effect.gen(function*() {
    const proxies: Array<Record<string, unknown>> = []
    for (const text of flags.proxy) {
      const parsed = parseProxy(text)
      if (Result.isFailure(parsed)) return yield* parsed.failure
      proxies.push(parsed.success)
    }
    const ca = Option.isSome(flags.ca) ? yield* readCa(flags.ca.value) : undefined
    const maxTlsVersion = Option.map(flags.maxTls, (v) => (v === "1.2" ? "TLSv1.2" : "TLSv1.3"))
    let transport: Record<string, unknown>
    if (flags.transport === "bosh") {
      if (Option.isNone(flags.boshUrl)) return yield* invalid("--transport bosh needs --bosh-url URL")
      transport = {
        _tag: "bosh",
        url: flags.boshUrl.value,
        ...(Option.isSome(flags.httpMode) ? { mode: flags.httpMode.value } : {}),
        ...(proxies.length > 0 ? { proxies } : {})
      }
    } else {
      if (Option.isSome(flags.boshUrl) || Option.isSome(flags.httpMode)) {
        return yield* invalid("--bosh-url and --http-mode need --transport bosh")
      }
      transport = {
        _tag: "tcp",
        ...(Option.isSome(flags.host) ? { host: flags.host.value } : {}),
        ...(Option.isSome(flags.port) ? { port: flags.port.value } : {}),
        directTls: flags.directTls,
        ...(proxies.length > 0 ? { proxies } : {}),
        ...(Option.isSome(maxTlsVersion) ? { maxTlsVersion: maxTlsVersion.value } : {})
      }
    }
    const login = yield* credentials(flags)
    const input = {
      jid: flags.jid,
      // A placeholder: the real password goes in after decoding.
      ...(password === undefined ? {} : { password: "" }),
      ...(login === undefined ? {} : { credentials: login }),
      transport,
      ...(ca === undefined ? {} : { ca }),
      ...(flags.systemRoots ? {} : { systemRoots: false }),
      ...(Option.isSome(flags.mechanisms)
        ? { mechanisms: flags.mechanisms.value.split(",").map((m) => m.trim()).filter((m) => m !== "") }
        : {}),
      ...(Option.isSome(flags.resource) ? { resource: flags.resource.value } : {}),
      allowPlaintext: flags.allowPlaintext,
      allowPlainWithoutTls: flags.allowPlainWithoutTls,
      channelBinding: flags.channelBinding,
      ...(flags.streamManagement ? {} : { streamManagement: { enabled: false } }),
      ...(flags.reconnect ? { reconnect: {} } : {})
    }
    const decoded = XmppClientConfig.decode(input)
    if (Result.isFailure(decoded)) return yield* invalid(schemaMessage(decoded.failure.message))
    return password === undefined ? decoded.success : { ...decoded.success, password }
  })
