/**
 * Where a connection goes and how: the target, the chain of proxies in front
 * of it (any order and length; none means a direct TCP connection), and
 * whether TLS is started once the tunnel reaches the target.
 *
 * @since 0.1.0
 */
import type * as Redacted from "effect/Redacted"
import type { ClientCertificate } from "./ClientCertificate.js"

/**
 * A user name and password for a proxy. The password stays redacted so it
 * never reaches a log or an error message.
 *
 * @since 0.1.0
 */
export interface Credentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/**
 * An HTTP proxy asked to open a tunnel with CONNECT (RFC 9110 §9.3.6).
 *
 * @since 0.1.0
 */
export interface HttpConnectProxy {
  readonly _tag: "HttpConnect"
  readonly host: string
  readonly port: number
  /** Sent as `Proxy-Authorization: Basic`. */
  readonly credentials?: Credentials | undefined
}

/**
 * A SOCKS5 proxy (RFC 1928), optionally with username/password (RFC 1929).
 *
 * @since 0.1.0
 */
export interface Socks5Proxy {
  readonly _tag: "Socks5"
  readonly host: string
  readonly port: number
  readonly credentials?: Credentials | undefined
}

/**
 * One proxy of a chain.
 *
 * @since 0.1.0
 */
export type Proxy = HttpConnectProxy | Socks5Proxy

/**
 * TLS settings. Certificates and host names are always verified. Trust is
 * the platform's default roots plus `ca` (a test CA, a private server), or
 * `ca` alone with `systemRoots: false` — the same on every transport.
 *
 * @since 0.1.0
 */
export interface TlsOptions {
  /** The name sent as SNI and checked against the certificate; defaults to the route's host. */
  readonly servername?: string | undefined
  /** PEM trust anchors added to the platform's roots (or used alone: see `systemRoots`). */
  readonly ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined
  /** Whether the platform's default roots are trusted too; default `true`. */
  readonly systemRoots?: boolean | undefined
  /** ALPN protocols; direct TLS to an XMPP server offers `xmpp-client` (XEP-0368), the default. */
  readonly alpnProtocols?: ReadonlyArray<string> | undefined
  /**
   * The highest TLS version to offer (default: the platform's highest).
   * `TLSv1.2` is for servers whose channel binding works only there
   * (`tls-unique`: Prosody 0.12 and ejabberd 23.01 take nothing else).
   */
  readonly maxVersion?: "TLSv1.2" | "TLSv1.3" | undefined
  /** A client certificate to present when the server asks for one (SASL EXTERNAL). */
  readonly clientCertificate?: ClientCertificate | undefined
}

/**
 * A complete route.
 *
 * @since 0.1.0
 */
export interface Route {
  readonly host: string
  readonly port: number
  /** Proxies in dialing order: the first is reached by TCP, each next one through the tunnel of the previous. */
  readonly proxies?: ReadonlyArray<Proxy> | undefined
  /** Start TLS with the target as soon as the tunnel is open (direct TLS, XEP-0368). */
  readonly tls?: TlsOptions | undefined
}

/**
 * The ALPN protocol name for direct TLS to an XMPP server (XEP-0368).
 *
 * @since 0.1.0
 */
export const xmppClientAlpn = "xmpp-client"

/**
 * A direct route to `host:port`.
 *
 * @since 0.1.0
 */
export const make = (host: string, port: number, options: Omit<Route, "host" | "port"> = {}): Route => ({
  host,
  port,
  ...options
})

/**
 * One step of a route as errors report it, without credentials: the TCP
 * connection to the first address (`Direct`), a proxy handshake, or the TLS
 * handshake with the target. `index` counts from 0 along the route.
 *
 * @since 0.1.0
 */
export interface Hop {
  readonly index: number
  readonly kind: "Direct" | "HttpConnect" | "Socks5" | "Tls"
  /** The peer this step talks to: the proxy for a proxy handshake, the target for TLS. */
  readonly host: string
  readonly port: number
}

/**
 * The steps of a route, in order, as errors name them.
 *
 * @since 0.1.0
 */
export const hops = (route: Route): ReadonlyArray<Hop> => {
  const proxies = route.proxies ?? []
  const first = proxies[0] ?? route
  const steps: Array<Hop> = [{ index: 0, kind: "Direct", host: first.host, port: first.port }]
  proxies.forEach((proxy) => steps.push({ index: steps.length, kind: proxy._tag, host: proxy.host, port: proxy.port }))
  if (route.tls !== undefined) steps.push({ index: steps.length, kind: "Tls", host: route.host, port: route.port })
  return steps
}

/**
 * A hop as text for messages, e.g. `#1 Socks5 127.0.0.1:1080`.
 *
 * @since 0.1.0
 */
export const formatHop = (hop: Hop): string => `#${hop.index} ${hop.kind} ${hop.host}:${hop.port}`
