/**
 * The one client API over every transport: connect, negotiate (TLS, SASL,
 * bind), then send and receive stanzas of a bound `jabber:client` stream,
 * and close cleanly. It never interprets stanzas beyond recognizing them.
 *
 * @since 0.1.0
 */
import {
  BoshOptions,
  Element,
  Jid,
  Namespaces,
  type Negotiation,
  type SaslMechanism,
  StreamError,
  XmlSerializer,
  type XmlStreamEvent
} from "@xmpp-core/protocol"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as CryptoError from "effect/crypto/CryptoError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import type { SecureRandom } from "effect/crypto"
import * as BoshHttpConfig from "./http/BoshHttpConfig.js"
import { BoshHttpClients } from "./http/BoshHttpClients.js"
import * as Stream from "effect/Stream"
import * as HttpClient from "effect/http/HttpClient"
import type { Connector } from "./net/Connector.js"
import type * as ServerLookup from "./net/ServerLookup.js"
import type { TlsUpgrade } from "./net/TlsUpgrade.js"
import type { SaslCrypto } from "./sasl/SaslCrypto.js"
import * as StreamNegotiator from "./sasl/StreamNegotiator.js"
import * as BoshTransport from "./transport/BoshTransport.js"
import * as StreamTransport from "./transport/StreamTransport.js"
import type * as Traffic from "./transport/Traffic.js"
import type * as Transport from "./transport/Transport.js"
import type { TransportError } from "./transport/TransportError.js"
import type * as XmppClientConfigModule from "./XmppClientConfig.js"
import type { XmppClientConfig } from "./XmppClientConfig.js"
import { XmppClientError } from "./XmppClientError.js"

/**
 * @since 0.1.0
 */
export class XmppClient extends Context.Service<XmppClient, {
  /** The full JID the server bound. */
  readonly jid: Jid.Jid
  readonly transport: Transport.Kind
  /** The SASL mechanism that authenticated. */
  readonly mechanism: SaslMechanism.Name
  /**
   * Sends a stanza (`message`, `presence` or `iq` in `jabber:client`). Its
   * names and characters are checked first: invalid XML is an
   * `InvalidStanza` error and nothing is sent. Stanzas go out in call order.
   */
  readonly send: (stanza: Element.Element) => Effect.Effect<void, XmppClientError>
  /**
   * The incoming stanzas, in order. Ends when the server closes the stream;
   * fails on a stream error, a non-stanza element or a lost connection.
   * Meant for one consumer: two concurrent consumers would split the stanzas.
   */
  readonly stanzas: Stream.Stream<Element.Element, XmppClientError>
  /**
   * Closes the stream after everything sent so far (no unavailable
   * presence: the server sends that for us). Closing twice is a no-op.
   */
  readonly close: Effect.Effect<void, XmppClientError>
}>()("@xmpp-core/client/XmppClient") {}

/**
 * What `connect` takes besides the decoded configuration.
 *
 * @since 0.1.0
 */
export interface ConnectOptions {
  /** XML console: sees the raw traffic, SASL secrets redacted. */
  readonly onTraffic?: Traffic.OnTraffic | undefined
}

/**
 * Negotiation settings of `fromTransport`: the account and the SASL choices.
 *
 * @since 0.1.0
 */
export type Settings = Omit<XmppClientConfig, "transport" | "ca" | "limits">

const STANZA_NAMES: ReadonlySet<string> = new Set(["message", "presence", "iq"])

/**
 * Whether an element is a stanza of a client stream.
 *
 * @since 0.1.0
 */
export const isStanza = (element: Element.Element): boolean =>
  element.namespace === Namespaces.JABBER_CLIENT && STANZA_NAMES.has(element.name)

const fromTransportError = (reason: "ConnectFailed" | "ConnectionLost") => (error: TransportError) =>
  new XmppClientError({
    // A stream error is the server's word, whenever it comes: during login or after.
    reason: error.reason === "Closed" ? "Closed" : error.reason === "StreamError" ? "StreamError" : reason,
    message: error.message,
    // BOSH names its own conditions (item-not-found, see-other-uri…); TCP has only the reason.
    condition: error.condition ?? error.reason,
    cause: error
  })

const fromNegotiationError = (
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

// Maps one transport event of a bound stream to a stanza, the end, or an error.
const toStanza = (
  event: XmlStreamEvent.XmlStreamEvent
): Effect.Effect<Element.Element, XmppClientError | Cause.Done> => {
  if (event._tag === "StreamClose") return Cause.done()
  if (event._tag === "StreamOpen") {
    return Effect.fail(new XmppClientError({ reason: "UnexpectedElement", message: "a second stream header on a bound stream" }))
  }
  const element = event.element
  if (isStanza(element)) return Effect.succeed(element)
  if (StreamError.isStreamError(element)) {
    const error = StreamError.fromElement(element)
    return Effect.fail(new XmppClientError({ reason: "StreamError", message: error.message, condition: error.reason, cause: error }))
  }
  return Effect.fail(
    new XmppClientError({
      reason: "UnexpectedElement",
      message: `the server sent <${element.name} xmlns='${element.namespace}'/>, which is not a stanza`
    })
  )
}

const checkStanza = (stanza: Element.Element): Effect.Effect<Element.Element, XmppClientError> => {
  if (!isStanza(stanza)) {
    return Effect.fail(
      new XmppClientError({
        reason: "InvalidStanza",
        message: `<${stanza.name} xmlns='${stanza.namespace}'/> is not a stanza: expected message, presence or iq in ${Namespaces.JABBER_CLIENT}`
      })
    )
  }
  const valid = XmlSerializer.validate(stanza)
  return Result.isSuccess(valid)
    ? Effect.succeed(valid.success)
    : Effect.fail(new XmppClientError({ reason: "InvalidStanza", message: valid.failure.message, cause: valid.failure }))
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
 * Negotiates over an open transport (any kind) and returns the client. The
 * BOSH transport plugs in here. Closing the scope closes the stream cleanly
 * if `close` was not called.
 *
 * @since 0.1.0
 */
export const fromTransport = (
  transport: Transport.Transport,
  settings: Settings
): Effect.Effect<XmppClient["Service"], XmppClientError, Scope.Scope | SaslCrypto> =>
  Effect.gen(function*() {
    const account = Jid.parse(settings.jid)
    if (Result.isFailure(account)) {
      return yield* new XmppClientError({ reason: "InvalidConfig", message: `invalid JID: ${account.failure.message}` })
    }
    const jid = account.success
    const credentials = saslCredentials(settings, jid)
    if (Result.isFailure(credentials)) return yield* credentials.failure
    const resource = settings.resource ?? jid.resource
    const bound = yield* StreamNegotiator.negotiate(transport, {
      transport: transport.kind,
      domain: jid.domain,
      credentials: credentials.success,
      resource,
      mechanisms: settings.mechanisms,
      allowPlaintext: settings.allowPlaintext,
      allowPlainWithoutTls: settings.allowPlainWithoutTls,
      channelBinding: settings.channelBinding,
      minIterations: settings.minIterations,
      maxIterations: settings.maxIterations,
      featuresTimeout: settings.featuresTimeout,
      responseTimeout: settings.responseTimeout,
      tls: Option.getOrUndefined(transport.channel),
      secure: transport.secure
    }).pipe(
      Effect.tapError((error) =>
        // A refused login still ends the stream politely; a broken transport cannot.
        error._tag === "TransportError" ? Effect.void : Effect.ignore(transport.close())
      ),
      Effect.mapError(fromNegotiationError)
    )

    let closed = false
    const close = Effect.suspend(() => {
      if (closed) return Effect.void
      closed = true
      return transport.close().pipe(
        Effect.mapError((error) =>
          error.reason === "CloseUnconfirmed"
            ? new XmppClientError({ reason: "CloseUnconfirmed", message: error.message, cause: error })
            : fromTransportError("ConnectionLost")(error)
        )
      )
    })
    yield* Effect.addFinalizer(() => Effect.ignore(close))

    const send = (stanza: Element.Element) =>
      Effect.suspend(() =>
        closed
          ? Effect.fail(new XmppClientError({ reason: "Closed", message: "the client is closed" }))
          : checkStanza(stanza).pipe(
            Effect.flatMap((valid) => Effect.mapError(transport.send(valid), fromTransportError("ConnectionLost")))
          )
      )

    const stanzas = Stream.fromEffectRepeat(
      transport.receive.pipe(
        Effect.mapError((error) => (error.reason === "Closed" ? Cause.Done() : fromTransportError("ConnectionLost")(error))),
        Effect.flatMap(toStanza)
      )
    )

    return XmppClient.of({ jid: bound.jid, transport: transport.kind, mechanism: bound.mechanism, send, stanzas, close })
  })

// The certificate and key of `credentials` Certificate, for every TLS handshake.
const clientCertificate = (config: XmppClientConfig) =>
  config.credentials?._tag === "Certificate"
    ? { certificate: config.credentials.certificate, key: config.credentials.key }
    : undefined

/**
 * The StreamTransport options for a TCP configuration.
 *
 * @since 0.1.0
 */
export const tcpOptions = (
  config: XmppClientConfig,
  domain: string,
  options: ConnectOptions = {}
): StreamTransport.Options => {
  const tcp = config.transport?._tag === "tcp" ? config.transport : undefined
  return {
    domain,
    host: tcp?.host,
    port: tcp?.port,
    directTls: tcp?.directTls,
    proxies: tcp?.proxies,
    ca: config.ca,
    maxTlsVersion: tcp?.maxTlsVersion,
    clientCertificate: clientCertificate(config),
    limits: config.limits,
    closeTimeout: tcp?.closeTimeout === undefined ? undefined : Duration.millis(tcp.closeTimeout),
    onTraffic: options.onTraffic
  }
}

/**
 * The BOSH HTTP settings for a BOSH configuration. Only one HTTP proxy fits
 * in front of a connection manager; anything else is refused, never skipped.
 *
 * @since 0.1.0
 */
export const boshHttpConfig = (
  config: XmppClientConfig,
  bosh: XmppClientConfigModule.BoshTransport
): Result.Result<BoshHttpConfig.BoshHttpConfig, XmppClientError> => {
  const proxies = bosh.proxies ?? []
  const [proxy, ...others] = proxies
  if (others.length > 0 || (proxy !== undefined && proxy._tag !== "HttpConnect")) {
    return Result.fail(
      new XmppClientError({
        reason: "TransportUnavailable",
        message: "BOSH goes through at most one HTTP proxy (HttpConnect); SOCKS5 and proxy chains are not available for BOSH"
      })
    )
  }
  const wait = bosh.wait ?? BoshOptions.defaults.wait
  const certificate = clientCertificate(config)
  try {
    return Result.succeed(
      new BoshHttpConfig.BoshHttpConfig({
        url: bosh.url,
        mode: bosh.mode ?? "keep-alive",
        hold: bosh.hold ?? BoshOptions.defaults.hold,
        ...(proxy === undefined ? {} : {
          proxy: new BoshHttpConfig.BoshHttpProxy({
            url: `http://${proxy.host.includes(":") ? `[${proxy.host}]` : proxy.host}:${proxy.port}`,
            ...(proxy.credentials === undefined
              ? {}
              : { username: proxy.credentials.username, password: proxy.credentials.password })
          })
        }),
        ...(config.ca === undefined ? {} : { ca: config.ca }),
        ...(certificate === undefined ? {} : { clientCertificate: certificate }),
        // An exchange may be held for `wait`: allow that plus a margin.
        timeout: Duration.seconds(wait + 15),
        maxResponseBytes: 4 * 1024 * 1024
      })
    )
  } catch (cause) {
    return Result.fail(
      new XmppClientError({ reason: "InvalidConfig", message: `BOSH HTTP settings: ${String(cause)}`, cause })
    )
  }
}

/**
 * The BoshTransport options for a BOSH configuration.
 *
 * @since 0.1.0
 */
export const boshOptions = (
  bosh: XmppClientConfigModule.BoshTransport,
  http: BoshHttpConfig.BoshHttpConfig,
  account: Jid.Jid,
  options: ConnectOptions = {}
): BoshTransport.Options => ({
  domain: account.domain,
  http,
  account: account.local === undefined ? undefined : Jid.format(Jid.bare(account)),
  route: bosh.route,
  hold: bosh.hold,
  wait: bosh.wait,
  closeTimeout: bosh.closeTimeout === undefined ? undefined : Duration.millis(bosh.closeTimeout),
  session: bosh.requestTimeout === undefined ? undefined : { requestTimeoutMs: bosh.requestTimeout },
  onTraffic: options.onTraffic
})

const connectBosh = (
  config: XmppClientConfig,
  bosh: XmppClientConfigModule.BoshTransport,
  account: Jid.Jid,
  options: ConnectOptions
) =>
  Effect.gen(function*() {
    const httpConfig = boshHttpConfig(config, bosh)
    if (Result.isFailure(httpConfig)) return yield* httpConfig.failure
    const clients = yield* BoshHttpClients
    const http = yield* clients.make(httpConfig.success).pipe(
      Effect.mapError((cause) =>
        new XmppClientError({
          reason: cause.reason === "UnsupportedByRuntime" ? "TransportUnavailable" : "InvalidConfig",
          message: cause.message,
          cause
        })
      )
    )
    return yield* BoshTransport.connect(boshOptions(bosh, httpConfig.success, account, options)).pipe(
      Effect.provideService(HttpClient.HttpClient, http),
      Effect.mapError(fromTransportError("ConnectFailed"))
    )
  })

/**
 * Everything `connect` needs from the platform, for either transport.
 *
 * @since 0.1.0
 */
export type Ports =
  | Connector
  | TlsUpgrade
  | ServerLookup.ServerLookup
  | SaslCrypto
  | BoshHttpClients
  | SecureRandom.SecureRandom

/**
 * Connects with a decoded configuration and returns a bound client that
 * lives as long as the scope.
 *
 * @since 0.1.0
 */
export const connect = (
  config: XmppClientConfig,
  options: ConnectOptions = {}
): Effect.Effect<XmppClient["Service"], XmppClientError, Scope.Scope | Ports> =>
  Effect.gen(function*() {
    const account = Jid.parse(config.jid)
    if (Result.isFailure(account)) {
      return yield* new XmppClientError({ reason: "InvalidConfig", message: `invalid JID: ${account.failure.message}` })
    }
    const transport = config.transport?._tag === "bosh"
      ? yield* connectBosh(config, config.transport, account.success, options)
      : yield* StreamTransport.connect(tcpOptions(config, account.success.domain, options)).pipe(
        Effect.mapError(fromTransportError("ConnectFailed"))
      )
    return yield* fromTransport(transport, config)
  })

/**
 * The client as a Layer: connected when built, closed when released.
 *
 * @since 0.1.0
 */
export const layer = (
  config: XmppClientConfig,
  options: ConnectOptions = {}
): Layer.Layer<XmppClient, XmppClientError, Ports> => Layer.effect(XmppClient, connect(config, options))
