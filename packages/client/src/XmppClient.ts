/**
 * The one client API over every transport: connect, negotiate (TLS, SASL,
 * bind), then send and receive stanzas of a bound `jabber:client` stream,
 * and close cleanly. It never interprets stanzas beyond recognizing them.
 *
 * @since 0.1.0
 */
import { BoshOptions, BoundStream, type Element, Jid, type SaslMechanism, type TransportKind } from "@xmpp-core/protocol"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
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
import type { ConnectionEvent } from "./session/ConnectionEvent.js"
import * as Login from "./session/Login.js"
import * as ManagedSession from "./session/ManagedSession.js"
import * as SessionSettings from "./session/SessionSettings.js"
import * as BoshTransport from "./transport/BoshTransport.js"
import * as StreamTransport from "./transport/StreamTransport.js"
import type * as Traffic from "./transport/Traffic.js"
import type * as Transport from "./transport/Transport.js"
import type * as XmppClientConfigModule from "./XmppClientConfig.js"
import type { XmppClientConfig } from "./XmppClientConfig.js"
import { XmppClientError } from "./XmppClientError.js"

/**
 * @since 0.1.0
 */
export class XmppClient extends Context.Service<XmppClient, {
  /** The full JID the server bound. */
  readonly jid: Jid.Jid
  readonly transport: TransportKind
  /** The SASL mechanism that authenticated. */
  readonly mechanism: SaslMechanism.Name
  /**
   * Sends a stanza (`message`, `presence` or `iq` in `jabber:client`). Its
   * names and characters are checked first: invalid XML is an
   * `InvalidStanza` error and nothing is sent. Stanzas go out in call order.
   * It resolves once the stanza is queued for the connection; with stream
   * management, a caller that sends faster than the server acknowledges
   * waits here once `maxUnacked` are unacknowledged, for as long as
   * `ackTimeout` (then `QueueFull`).
   */
  readonly send: (stanza: Element.Element) => Effect.Effect<void, XmppClientError>
  /**
   * Sends a stanza like `send` and resolves once the server acknowledged it
   * (XEP-0198 `<a h/>`). Fails with `NotAcknowledged` when the session ended
   * or was replaced first (the stanza is in the error's `unacknowledged`),
   * and with `StreamManagementUnavailable` over TCP without stream management
   * (not configured, or not offered by the server). Over BOSH without stream
   * management the receipt is the connection manager's answer to the request
   * that carried the stanza (XEP-0124 §9).
   */
  readonly sendAcknowledged: (stanza: Element.Element) => Effect.Effect<void, XmppClientError>
  /**
   * Sends an `iq` get or set (an `id` is added when absent) and returns its
   * `result`; an `error` answer fails with `IqError` and the stanza error
   * condition, no answer within `timeout` (default 30 s) with `Timeout`. The
   * answer is matched by `id` and by who sent it, and is not in `stanzas`.
   */
  readonly iq: (request: Element.Element, options?: ManagedSession.IqOptions) => Effect.Effect<Element.Element, XmppClientError>
  /**
   * What happens to the connection: online, disconnected, reconnecting,
   * resuming, resumed, resume failed (with the stanzas handed back), gave
   * up. A subscriber sees the events after it subscribed.
   */
  readonly events: Stream.Stream<ConnectionEvent>
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
export type Settings = Login.Settings

/**
 * Whether an element is a stanza of a client stream (`BoundStream.isStanza`).
 *
 * @since 0.1.0
 */
export const isStanza = BoundStream.isStanza

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
  Effect.map(
    ManagedSession.make({ settings, streamManagement: undefined, reconnect: undefined, open: Effect.succeed(transport) }),
    XmppClient.of
  )

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
    systemRoots: config.systemRoots,
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
        ...(config.systemRoots === undefined ? {} : { systemRoots: config.systemRoots }),
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
      Effect.mapError(Login.fromTransportError("ConnectFailed"))
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
    const account = yield* Effect.fromResult(Login.account(config))
    const open: Effect.Effect<Transport.Transport, XmppClientError, Scope.Scope | Ports> = config.transport?._tag === "bosh"
      ? connectBosh(config, config.transport, account, options)
      : StreamTransport.connect(tcpOptions(config, account.domain, options)).pipe(
        Effect.mapError(Login.fromTransportError("ConnectFailed"))
      )
    // One path: without stream management or reconnects the session is one link, read by the same driver.
    return XmppClient.of(yield* ManagedSession.make({
      settings: config,
      streamManagement: SessionSettings.streamManagementOf(config.streamManagement),
      reconnect: config.reconnect,
      ping: config.ping,
      open
    }))
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
