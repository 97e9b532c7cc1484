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
 * Every failure is reported to undici as an `HttpError` naming the hop, which
 * undici passes back as the request's error (and `BoshHttpExchange.post`
 * returns as is).
 *
 * @since 0.1.0
 */
import { type BoshHttpConfig, HttpError, type HttpHop } from "@xmpp-core/client"
import { Client as UndiciClient } from "@effect/platform-node/Undici"
import type * as Undici from "@effect/platform-node/Undici"
import { Redacted } from "effect"
import * as Net from "node:net"
import type { Duplex } from "node:stream"
import * as Tls from "node:tls"

/**
 * Where an HTTP proxy listens, and the `Proxy-Authorization` value to send.
 *
 * @since 0.1.0
 */
export interface ProxyEndpoint {
  readonly host: string
  readonly port: number
  /** `Basic …`, already encoded; kept redacted so it never reaches a log. */
  readonly authorization: Redacted.Redacted<string> | undefined
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
  const password = config.proxy.password === undefined ? "" : Redacted.value(config.proxy.password)
  const proxy: ProxyEndpoint = {
    host: proxyUrl.hostname,
    port: proxyUrl.port === "" ? 80 : Number(proxyUrl.port),
    authorization: username === undefined
      ? undefined
      : Redacted.make(`Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`)
  }
  return new URL(config.url).protocol === "https:" ? { _tag: "Tunnel", proxy } : { _tag: "Forward", proxy }
}

/**
 * What the connect hook needs besides the route.
 *
 * @since 0.1.0
 */
export interface ConnectOptions {
  /** Extra trusted CA certificates (PEM), added to Node's default roots. */
  readonly ca: string | undefined
  /** Give up on opening a connection after this many milliseconds. */
  readonly timeoutMillis: number
}

/**
 * The undici `connect` hook for `route`: opens one connection to the
 * manager (or to the proxy, for `Forward`).
 *
 * @since 0.1.0
 */
export const makeConnect = (route: BoshHttpRoute, options: ConnectOptions): Undici.buildConnector.connector => {
  const ca = options.ca === undefined ? undefined : [...Tls.rootCertificates, options.ca]
  const open = (target: Undici.buildConnector.Options): Promise<Net.Socket> => {
    const port = targetPort(target)
    const origin = `${target.protocol}//${target.hostname}:${port}`
    switch (route._tag) {
      case "Direct":
        return tcp(target.hostname, port, "connection-manager", origin, options.timeoutMillis).then((socket): Promise<Net.Socket> | Net.Socket =>
          target.protocol === "https:" ? tls(socket, target.hostname, ca, origin, options.timeoutMillis) : socket
        )
      case "Forward":
        return tcp(route.proxy.host, route.proxy.port, "proxy", origin, options.timeoutMillis)
      case "Tunnel":
        return tunnel(route.proxy, target.hostname, port, origin, options.timeoutMillis).then((socket) =>
          tls(socket, target.hostname, ca, origin, options.timeoutMillis)
        )
    }
  }
  return (target, callback) => {
    open(target).then((socket) => callback(null, socket), (error: Error) => callback(error, null))
  }
}

const targetPort = (target: Undici.buildConnector.Options): number =>
  target.port === "" ? (target.protocol === "https:" ? 443 : 80) : Number(target.port)

const tcp = (host: string, port: number, hop: HttpHop, url: string, timeoutMillis: number): Promise<Net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = Net.connect({ host, port, noDelay: true })
    const fail = (cause: Error) => {
      socket.destroy()
      reject(
        new HttpError({
          reason: "ConnectFailed",
          message: `cannot connect to the ${hop} at ${host}:${port}: ${cause.message}`,
          hop,
          url,
          cause
        })
      )
    }
    socket.setTimeout(timeoutMillis, () => fail(new Error(`no connection within ${timeoutMillis} ms`)))
    socket.once("error", fail)
    socket.once("connect", () => {
      socket.setTimeout(0)
      socket.removeListener("error", fail)
      resolve(socket)
    })
  })

const tls = (
  socket: Duplex,
  hostname: string,
  ca: ReadonlyArray<string> | undefined,
  url: string,
  timeoutMillis: number
): Promise<Tls.TLSSocket> =>
  new Promise((resolve, reject) => {
    const secure = Tls.connect({
      socket,
      host: hostname,
      // SNI carries host names only, never IP addresses (RFC 6066 §3).
      ...(Net.isIP(hostname) === 0 ? { servername: hostname } : {}),
      ...(ca === undefined ? {} : { ca: [...ca] }),
      ALPNProtocols: ["http/1.1"]
    })
    const fail = (cause: Error) => {
      secure.destroy()
      socket.destroy()
      reject(
        new HttpError({
          reason: "TlsFailed",
          message: `TLS with the connection manager at ${hostname} failed: ${cause.message}`,
          hop: "connection-manager",
          url,
          cause
        })
      )
    }
    secure.setTimeout(timeoutMillis, () => fail(new Error(`no TLS handshake within ${timeoutMillis} ms`)))
    secure.once("error", fail)
    secure.once("secureConnect", () => {
      secure.setTimeout(0)
      secure.removeListener("error", fail)
      resolve(secure)
    })
  })

/**
 * Opens a CONNECT tunnel through `proxy` to `host:port`. undici's own
 * `Client.connect` speaks the CONNECT exchange; we only hand it the TCP
 * connection and read the status.
 */
const tunnel = async (
  proxy: ProxyEndpoint,
  host: string,
  port: number,
  url: string,
  timeoutMillis: number
): Promise<Net.Socket> => {
  const proxyOrigin = `http://${proxy.host}:${proxy.port}`
  const authority = `${Net.isIPv6(host) ? `[${host}]` : host}:${port}`
  const client = new UndiciClient(proxyOrigin, {
    connect: (_target, callback) => {
      tcp(proxy.host, proxy.port, "proxy", url, timeoutMillis).then(
        (socket) => callback(null, socket),
        (error: Error) => callback(error, null)
      )
    }
  })
  try {
    const { socket, statusCode } = await client.connect({
      path: authority,
      headers: {
        host: authority,
        ...(proxy.authorization === undefined ? {} : { "proxy-authorization": Redacted.value(proxy.authorization) })
      },
      signal: AbortSignal.timeout(timeoutMillis)
    })
    if (statusCode < 200 || statusCode >= 300) {
      socket.destroy()
      throw new HttpError({
        // Only the proxy sees a CONNECT, so a 401 (tinyproxy's answer to wrong
        // credentials) is as much a proxy authentication failure as a 407.
        reason: statusCode === 407 || statusCode === 401 ? "ProxyAuthenticationRequired" : "TunnelRefused",
        message: `the proxy at ${proxy.host}:${proxy.port} refused CONNECT ${authority} with ${statusCode}`,
        hop: "proxy",
        url,
        status: statusCode
      })
    }
    if (!(socket instanceof Net.Socket)) {
      socket.destroy()
      throw new HttpError({ reason: "ConnectFailed", message: "the CONNECT tunnel is not a TCP socket", hop: "proxy", url })
    }
    return socket
  } catch (cause) {
    if (cause instanceof HttpError) throw cause
    // The connect hook's own HttpError may come back wrapped by undici.
    const inner = cause instanceof Error && cause.cause instanceof HttpError ? cause.cause : undefined
    if (inner !== undefined) throw inner
    throw new HttpError({
      reason: "ConnectFailed",
      message: `CONNECT ${authority} through the proxy at ${proxy.host}:${proxy.port} failed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      hop: "proxy",
      url,
      cause
    })
  } finally {
    // The tunnel socket now belongs to us, not to this client.
    client.close().catch(() => undefined)
  }
}
