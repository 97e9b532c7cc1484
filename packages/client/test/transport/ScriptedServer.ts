/**
 * A scripted server behind in-memory `Connector`, `TlsUpgrade` and
 * `ServerLookup` ports: the test pushes the server's bytes, ends or resets
 * the connection, makes writes fail or hang, and reads what the client
 * wrote. An optional `respond` hook answers each client write (for whole
 * logins). "TLS" here is a marker on the connection, not encryption.
 */
import {
  ConnectError,
  type Connection,
  Connector,
  type ProxyError,
  Route,
  ServerLookup,
  type TlsInfo,
  TlsUpgrade
} from "@xmpp-core/client"
import { Effect, Layer, Option, Queue } from "effect"
import * as Socket from "effect/socket/Socket"

export interface ScriptedServer {
  /** Every chunk the client wrote, in order, as text. */
  readonly written: Array<string>
  /** Routes the client dialed, in order (refused ones included). */
  readonly dialed: Array<Route.Route>
  /** TLS options of each STARTTLS upgrade. */
  readonly upgrades: Array<Route.TlsOptions | undefined>
  /** Server → client bytes. */
  readonly push: (data: string | Uint8Array) => Effect.Effect<void>
  /** Chunks pushed that the client has not read yet. */
  readonly unread: Effect.Effect<number>
  /** The server closes the TCP connection (EOF). */
  readonly end: Effect.Effect<void>
  /** The connection is reset (a read error). */
  readonly reset: Effect.Effect<void>
  /** Writes fail with a socket write error. */
  failWrites: boolean
  /** Writes never complete (a peer that stopped reading). */
  hangWrites: boolean
}

export interface Options {
  /** Refuse a route (as a closed port would). */
  readonly refuse?: ((route: Route.Route) => boolean) | undefined
  /** How the `dial`-th connection (from 1) fails, if it does: a proxy refusing us, say. */
  readonly failDial?: ((dial: number, route: Route.Route) => ConnectError | ProxyError | undefined) | undefined
  /** SRV answer for the lookup port; default: none (fallback to the domain). */
  readonly endpoints?: ReadonlyArray<ServerLookup.Endpoint> | undefined
  /** Answers a client write with server bytes. */
  readonly respond?: ((written: string) => string | undefined) | undefined
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const tlsInfo: TlsInfo.TlsInfo = {
  tlsVersion: "TLSv1.3",
  alpnProtocol: Option.none(),
  channelBinding: () => Option.none(),
  bindings: []
}

const closed = (code: number) => new Socket.SocketError({ reason: new Socket.SocketCloseError({ code }) })

export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const incoming = yield* Queue.unbounded<Uint8Array, Socket.SocketError>()
    const server: ScriptedServer = {
      written: [],
      dialed: [],
      upgrades: [],
      push: (data) => Effect.asVoid(Queue.offer(incoming, typeof data === "string" ? encoder.encode(data) : data)),
      unread: Queue.size(incoming),
      end: Effect.asVoid(Queue.fail(incoming, closed(1000))),
      reset: Effect.asVoid(Queue.fail(incoming, closed(1006))),
      failWrites: false,
      hangWrites: false
    }
    const write = (chunk: Uint8Array | string): Effect.Effect<void, Socket.SocketError> => {
      if (server.failWrites) {
        return Effect.fail(new Socket.SocketError({ reason: new Socket.SocketWriteError({ cause: new Error("EPIPE") }) }))
      }
      if (server.hangWrites) return Effect.never
      const text = typeof chunk === "string" ? chunk : decoder.decode(chunk)
      server.written.push(text)
      const answer = options.respond?.(text)
      return answer === undefined ? Effect.void : server.push(answer)
    }
    const socket = Socket.make({
      reader: Effect.succeed({
        pull: Effect.map(Queue.take(incoming), (chunk) => [chunk] as const),
        upgrade: Socket.SocketUpgradeError.unsupported
      }),
      writer: Effect.succeed({
        write: (chunk) => (Socket.isCloseEvent(chunk) ? Effect.void : write(chunk)),
        writeAll: (chunks) => Effect.forEach(chunks, write, { discard: true })
      })
    })
    const connector = Connector.Connector.of({
      connect: (route) =>
        Effect.suspend(() => {
          server.dialed.push(route)
          const hop = Route.hops(route)[0] ?? { index: 0, kind: "Direct", host: route.host, port: route.port }
          const failure = options.failDial?.(server.dialed.length, route)
          if (failure !== undefined) return Effect.fail(failure)
          if (options.refuse?.(route) === true) {
            return Effect.fail(new ConnectError({ reason: "Refused", message: `${route.host}:${route.port} refused`, hop }))
          }
          const connection: Connection.Connection = {
            socket,
            tls: route.tls === undefined ? Option.none() : Option.some(tlsInfo),
            route
          }
          return Effect.succeed(connection)
        })
    })
    const tlsUpgrade = TlsUpgrade.TlsUpgrade.of({
      upgrade: (connection, tlsOptions) =>
        Effect.sync(() => {
          server.upgrades.push(tlsOptions)
          return { ...connection, tls: Option.some(tlsInfo) }
        })
    })
    const lookup = ServerLookup.ServerLookup.of({
      lookup: (domain) =>
        Effect.succeed(options.endpoints ?? [{ host: domain, port: ServerLookup.defaultPort, directTls: false }])
    })
    const layer = Layer.mergeAll(
      Layer.succeed(Connector.Connector, connector),
      Layer.succeed(TlsUpgrade.TlsUpgrade, tlsUpgrade),
      Layer.succeed(ServerLookup.ServerLookup, lookup)
    )
    return { server, layer }
  })

export const serverHeader = (id = "s1") =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='${id}' version='1.0'>`
