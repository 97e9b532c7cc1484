/**
 * The Node implementation of the `Connector` and `TlsUpgrade` ports: TCP with
 * happy eyeballs, a chain of HTTP CONNECT and SOCKS5 proxies driven by the
 * pure handshakes, then TLS; every step bounded by one connect timeout.
 *
 * @since 0.1.0
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import {
  type Connection,
  type ConnectError,
  Connector,
  ProxyError,
  Route,
  TlsError,
  type TlsInfo,
  TlsUpgrade
} from "@xmpp-core/client"
import { HttpConnect, type ProxyHandshakeError, Socks5 } from "@xmpp-core/protocol"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Socket from "effect/socket/Socket"
import type * as Net from "node:net"
import type * as Tls from "node:tls"
import * as NodeProxyHandshake from "./NodeProxyHandshake.js"
import * as NodeTcp from "./NodeTcp.js"
import * as NodeTls from "./NodeTls.js"

/**
 * @since 0.1.0
 */
export interface Options {
  /** Bound on each step (TCP connect, each proxy handshake, the TLS handshake). Default 10 seconds. */
  readonly connectTimeout?: Duration.Input | undefined
}

const defaultTimeout = Duration.seconds(10)

/** The Node socket behind each connection this layer handed out, for the TLS upgrade. */
const nodeSockets = new WeakMap<Connection.Connection, Net.Socket>()

const credentialsOf = (proxy: Route.Proxy) =>
  proxy.credentials === undefined
    ? undefined
    : { username: proxy.credentials.username, password: Redacted.value(proxy.credentials.password) }

const invalidRequest = (error: ProxyHandshakeError, hop: Route.Hop) =>
  new ProxyError({ reason: error.reason, message: error.message, hop })

/** One proxy of the chain: ask it for a tunnel to `next`. */
const throughProxy = (
  socket: Net.Socket,
  proxy: Route.Proxy,
  next: { readonly host: string; readonly port: number },
  hop: Route.Hop,
  timeout: Duration.Duration
): Effect.Effect<void, ProxyError | ConnectError> => {
  const options = { host: next.host, port: next.port, credentials: credentialsOf(proxy) }
  const bounded = <E>(effect: Effect.Effect<void, E>) =>
    effect.pipe(Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(NodeTcp.timedOut(hop, timeout)) }))
  if (proxy._tag === "HttpConnect") {
    const made = HttpConnect.make(options)
    return Result.isFailure(made)
      ? Effect.fail(invalidRequest(made.failure, hop))
      : bounded(NodeProxyHandshake.run(socket, made.success, hop))
  }
  const made = Socks5.make(options)
  return Result.isFailure(made)
    ? Effect.fail(invalidRequest(made.failure, hop))
    : bounded(NodeProxyHandshake.run(socket, made.success, hop))
}

/**
 * Opens the Node socket at the end of `route`: a `net.Socket` (plaintext) or a
 * `tls.TLSSocket`. For code that needs a Node stream rather than an Effect
 * socket (an undici `connect` function). Destroyed when the scope closes.
 *
 * @since 0.1.0
 */
export const openNodeSocket = (
  route: Route.Route,
  options: Options = {}
): Effect.Effect<{ readonly socket: Net.Socket | Tls.TLSSocket; readonly tls: Option.Option<TlsInfo.TlsInfo> }, Connector.ConnectFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const timeout = Duration.fromInputUnsafe(options.connectTimeout ?? defaultTimeout)
    const steps = Route.hops(route)
    const proxies = route.proxies ?? []
    const [first] = steps
    if (first === undefined) return yield* Effect.die("a route always has a first hop")
    const socket = yield* NodeTcp.dial(first, timeout)
    for (let i = 0; i < proxies.length; i++) {
      const proxy = proxies[i]
      const hop = steps[i + 1]
      if (proxy === undefined || hop === undefined) continue
      yield* throughProxy(socket, proxy, proxies[i + 1] ?? route, hop, timeout)
    }
    const tlsHop = steps[steps.length - 1]
    if (route.tls === undefined || tlsHop === undefined) return { socket, tls: Option.none() }
    const tlsSocket = yield* NodeTls.handshake(socket, {
      name: route.tls.servername ?? route.host,
      ca: route.tls.ca,
      systemRoots: route.tls.systemRoots,
      alpnProtocols: route.tls.alpnProtocols ?? [Route.xmppClientAlpn],
      maxVersion: route.tls.maxVersion,
      clientCertificate: route.tls.clientCertificate
    }, tlsHop, timeout)
    return { socket: tlsSocket, tls: Option.some(NodeTls.info(tlsSocket)) }
  })

/**
 * Like `openNodeSocket`, but the caller owns the socket it returns (an HTTP
 * client's `connect` hook, which destroys sockets itself). On failure
 * everything opened so far is closed.
 *
 * @since 0.1.0
 */
export const openNodeSocketDetached = (
  route: Route.Route,
  options: Options = {}
): Effect.Effect<{ readonly socket: Net.Socket | Tls.TLSSocket; readonly tls: Option.Option<TlsInfo.TlsInfo> }, Connector.ConnectFailure> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const opened = yield* openNodeSocket(route, options).pipe(
      Scope.provide(scope),
      Effect.onExit((exit) => (Exit.isFailure(exit) ? Scope.close(scope, exit) : Effect.void))
    )
    // The finalizers only destroy these sockets: the owner does that now.
    return opened
  })

/**
 * Wraps an open Node socket as a `Connection`. The writer is acquired once for
 * the life of the connection, so a consumer releasing its writer scope does
 * not half-close the socket before a STARTTLS upgrade.
 */
const toConnection = (
  socket: Net.Socket,
  tls: Option.Option<TlsInfo.TlsInfo>,
  route: Route.Route
): Effect.Effect<Connection.Connection, never, Scope.Scope> =>
  Effect.gen(function*() {
    const inner = yield* NodeSocket.fromDuplex(Effect.succeed(socket))
    const writer = yield* inner.writer
    const connection: Connection.Connection = {
      socket: Socket.make({ reader: inner.reader, writer: Effect.succeed(writer) }),
      tls,
      route
    }
    nodeSockets.set(connection, socket)
    return connection
  })

/**
 * Builds both ports.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}) => {
  const timeout = Duration.fromInputUnsafe(options.connectTimeout ?? defaultTimeout)
  const connector = Connector.Connector.of({
    connect: (route) =>
      openNodeSocket(route, options).pipe(Effect.flatMap(({ socket, tls }) => toConnection(socket, tls, route)))
  })
  const tlsUpgrade = TlsUpgrade.TlsUpgrade.of({
    upgrade: (connection, tlsOptions = {}) =>
      Effect.gen(function*() {
        const route = connection.route
        const hop: Route.Hop = { index: Route.hops(route).length, kind: "Tls", host: route.host, port: route.port }
        const socket = nodeSockets.get(connection)
        if (socket === undefined || Option.isSome(connection.tls)) {
          return yield* new TlsError({
            reason: "Unsupported",
            message: Option.isSome(connection.tls)
              ? "the connection is already TLS"
              : "the connection was not opened by the Node connector",
            hop
          })
        }
        const tlsSocket = yield* NodeTls.handshake(socket, {
          name: tlsOptions.servername ?? route.host,
          ca: tlsOptions.ca ?? route.tls?.ca,
          systemRoots: tlsOptions.systemRoots ?? route.tls?.systemRoots,
          alpnProtocols: tlsOptions.alpnProtocols,
          maxVersion: tlsOptions.maxVersion ?? route.tls?.maxVersion,
          clientCertificate: tlsOptions.clientCertificate ?? route.tls?.clientCertificate
        }, hop, timeout)
        return yield* toConnection(tlsSocket, Option.some(NodeTls.info(tlsSocket)), route)
      })
  })
  return { connector, tlsUpgrade }
}

/**
 * The `Connector` and `TlsUpgrade` ports on Node sockets.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<Connector.Connector | TlsUpgrade.TlsUpgrade> => {
  const { connector, tlsUpgrade } = make(options)
  return Layer.mergeAll(Layer.succeed(Connector.Connector, connector), Layer.succeed(TlsUpgrade.TlsUpgrade, tlsUpgrade))
}
