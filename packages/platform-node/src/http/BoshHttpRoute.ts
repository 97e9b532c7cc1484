/**
 * The path from this process to a BOSH connection manager, and the undici
 * `connect` hook that opens one connection along it.
 *
 * - `Direct`: TCP (and TLS for `https://`) to the manager.
 * - `Forward`: an `http://` manager through an HTTP proxy: TCP to the proxy;
 *   requests then carry an absolute URI (see `BoshHttpInterceptor`).
 * - `Tunnel`: an `https://` manager through an HTTP proxy: TCP to the proxy,
 *   `CONNECT host:port`, then TLS with the manager inside the tunnel, so the
 *   proxy sees only ciphertext.
 *
 * The connections themselves are opened by the project's `Connector`
 * (`NodeConnector.openNodeSocketDetached`: TCP, the pure CONNECT handshake,
 * verified TLS), so a failure reaches the caller as its typed
 * `ConnectError`, `ProxyError` or `TlsError`, naming the failed hop; undici
 * hands it back as the request's error and `BoshHttpExchange.post` returns
 * it as is.
 *
 * @since 0.1.0
 */
import { type BoshHttpConfig, Route } from "@xmpp-core/client"
import type * as Undici from "@effect/platform-node/Undici"
import { Duration, Effect, Exit, Redacted } from "effect"
import * as Cause from "effect/Cause"
import * as NodeConnector from "../net/NodeConnector.js"

/**
 * Where an HTTP proxy listens, and the credentials to present.
 *
 * @since 0.1.0
 */
export interface ProxyEndpoint {
  readonly host: string
  readonly port: number
  readonly credentials: Route.Credentials | undefined
}

/**
 * @since 0.1.0
 */
export type BoshHttpRoute =
  | { readonly _tag: "Direct" }
  | { readonly _tag: "Forward"; readonly proxy: ProxyEndpoint }
  | { readonly _tag: "Tunnel"; readonly proxy: ProxyEndpoint }

/**
 * The route a config asks for.
 *
 * @since 0.1.0
 */
export const fromConfig = (config: Pick<BoshHttpConfig.BoshHttpConfig, "url" | "proxy">): BoshHttpRoute => {
  if (config.proxy === undefined) return { _tag: "Direct" }
  const proxyUrl = new URL(config.proxy.url)
  const username = config.proxy.username
  const proxy: ProxyEndpoint = {
    host: proxyUrl.hostname,
    port: proxyUrl.port === "" ? 80 : Number(proxyUrl.port),
    credentials: username === undefined
      ? undefined
      : { username, password: config.proxy.password ?? Redacted.make("") }
  }
  return new URL(config.url).protocol === "https:" ? { _tag: "Tunnel", proxy } : { _tag: "Forward", proxy }
}

/**
 * The `Proxy-Authorization` value for a forwarding proxy (RFC 7617 Basic).
 *
 * @since 0.1.0
 */
export const basicAuthorization = (credentials: Route.Credentials): Redacted.Redacted<string> =>
  Redacted.make(
    `Basic ${Buffer.from(`${credentials.username}:${Redacted.value(credentials.password)}`, "utf8").toString("base64")}`
  )

/**
 * What the connect hook needs besides the route.
 *
 * @since 0.1.0
 */
export interface ConnectOptions {
  /** Extra trusted CA certificates (PEM), added to Node's default roots unless `systemRoots` is false. */
  readonly ca: string | undefined
  /** Trust Node's default roots too (default `true`). */
  readonly systemRoots?: boolean | undefined
  /** Bound on each step of opening a connection (TCP, CONNECT, TLS). */
  readonly timeout: Duration.Duration
  /** Presented to an `https://` manager that asks for one (SASL EXTERNAL). */
  readonly clientCertificate?: Route.TlsOptions["clientCertificate"]
}

/**
 * The connector route for one connection undici asks for.
 *
 * @since 0.1.0
 */
export const connectorRoute = (
  route: BoshHttpRoute,
  target: Pick<Undici.buildConnector.Options, "hostname" | "port" | "protocol">,
  options: Pick<ConnectOptions, "ca" | "systemRoots" | "clientCertificate">
): Route.Route => {
  const secure = target.protocol === "https:"
  const port = target.port === "" ? (secure ? 443 : 80) : Number(target.port)
  const { ca, clientCertificate, systemRoots } = options
  // Trust is applied where every transport's is: NodeTls → SecureContexts.
  const tls: Route.TlsOptions = {
    ...(ca === undefined ? {} : { ca }),
    ...(systemRoots === undefined ? {} : { systemRoots }),
    ...(clientCertificate === undefined ? {} : { clientCertificate }),
    alpnProtocols: ["http/1.1"]
  }
  switch (route._tag) {
    case "Direct":
      return Route.make(target.hostname, port, secure ? { tls } : {})
    case "Forward":
      return Route.make(route.proxy.host, route.proxy.port)
    case "Tunnel":
      return Route.make(target.hostname, port, {
        proxies: [{
          _tag: "HttpConnect",
          host: route.proxy.host,
          port: route.proxy.port,
          credentials: route.proxy.credentials
        }],
        tls
      })
  }
}

/**
 * The undici `connect` hook for `route`: opens one connection to the
 * manager (or to the proxy, for `Forward`) through the `Connector`.
 *
 * @since 0.1.0
 */
export const makeConnect = (route: BoshHttpRoute, options: ConnectOptions): Undici.buildConnector.connector =>
(target, callback) => {
  const open = NodeConnector.openNodeSocketDetached(connectorRoute(route, target, options), {
    connectTimeout: options.timeout
  })
  Effect.runCallback(open, {
    onExit: (exit) => {
      if (Exit.isSuccess(exit)) {
        callback(null, exit.value.socket)
        return
      }
      const failure = exit.cause.reasons.find(Cause.isFailReason)
      callback(failure === undefined ? new Error(Cause.pretty(exit.cause)) : failure.error, null)
    }
  })
}
