/**
 * XMPP over TCP (RFC 6120): a `Transport` on the `Connector` and `TlsUpgrade`
 * ports. Direct TLS (XEP-0368) or STARTTLS; routes from an explicit host
 * (with an optional proxy chain) or from DNS SRV through `ServerLookup`,
 * tried in order. Bytes in go through the incremental `XmlStreamParser`;
 * a restart starts a new parser. Writes keep the order of the calls, and a
 * write that fails, or that is still pending when the connection is lost,
 * fails with a typed error.
 *
 * @since 0.1.0
 */
import {
  type ChannelBinding,
  type Element,
  Namespaces,
  StreamError,
  StreamFooter,
  XmlErrorCondition,
  XmlSerializer,
  XmlLimits,
  type XmlError,
  type XmlStreamEvent,
  XmlStreamParser
} from "@xmpp-core/protocol"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Latch from "effect/Latch"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Socket from "effect/socket/Socket"
import type { Connection } from "../net/Connection.js"
import { Connector, type ConnectFailure } from "../net/Connector.js"
import * as Route from "../net/Route.js"
import * as ServerLookup from "../net/ServerLookup.js"
import { TlsUpgrade } from "../net/TlsUpgrade.js"
import * as Traffic from "./Traffic.js"
import type { Transport } from "./Transport.js"
import { TransportError } from "./TransportError.js"

// The WHATWG TextDecoder exists in every browser and in Node; this package
// builds without DOM or Node types, so declare the part used (XML console only).
declare const TextDecoder: new(label: "utf-8") => {
  decode(input: Uint8Array, options: { stream: boolean }): string
}

/**
 * @since 0.1.0
 */
export interface Options {
  /** The XMPP domain: the stream's `to`, and the name the certificate must carry. */
  readonly domain: string
  /** Connect here instead of looking up the domain's SRV records. */
  readonly host?: string | undefined
  /** Default `ServerLookup.defaultPortFor(directTls)`: 5223 with `directTls`, else 5222. */
  readonly port?: number | undefined
  /**
   * TLS from the first byte (XEP-0368) instead of STARTTLS. With SRV, `true`
   * keeps only `_xmpps-client` endpoints and `false` only `_xmpp-client`
   * ones; absent, both, in SRV order.
   */
  readonly directTls?: boolean | undefined
  /** Proxies in front of the server, in dialing order. */
  readonly proxies?: ReadonlyArray<Route.Proxy> | undefined
  /** PEM trust anchors added to the platform's roots (verification stays on). */
  readonly ca?: Route.TlsOptions["ca"]
  /** Trust the platform's roots besides `ca` (default `true`). */
  readonly systemRoots?: Route.TlsOptions["systemRoots"]
  /** The highest TLS version to offer (see `Route.TlsOptions.maxVersion`). */
  readonly maxTlsVersion?: Route.TlsOptions["maxVersion"]
  /** Presented in the TLS handshake, direct or STARTTLS (SASL EXTERNAL). */
  readonly clientCertificate?: Route.TlsOptions["clientCertificate"]
  readonly limits?: { readonly [K in keyof XmlLimits.XmlLimits]?: number | undefined } | undefined
  /** How long `close` waits for the server's `</stream:stream>`. Default 2 seconds. */
  readonly closeTimeout?: Duration.Input | undefined
  /**
   * Events parsed but not yet received; reading from the socket pauses when
   * this many wait. Default 512. Once our `</stream:stream>` is out, up to 8×
   * as many are read, so the server's close is seen even when nobody drains
   * the stanzas.
   */
  readonly eventBuffer?: number | undefined
  readonly onTraffic?: Traffic.OnTraffic | undefined
}

const withMaxVersion = (route: Route.Route, options: Options): Route.Route => {
  const { clientCertificate, maxTlsVersion } = options
  if (route.tls === undefined) return route
  return {
    ...route,
    tls: {
      ...route.tls,
      ...(maxTlsVersion === undefined ? {} : { maxVersion: maxTlsVersion }),
      ...(clientCertificate === undefined ? {} : { clientCertificate })
    }
  }
}

/**
 * The routes to try, in order: the explicit host, or the domain's SRV
 * endpoints (the certificate is always checked against the XMPP domain).
 * A port without a host means the domain itself at that port: SRV records
 * name their own ports, so looking them up would ignore the one asked for.
 *
 * @since 0.1.0
 */
export const routes = (options: Options): Effect.Effect<ReadonlyArray<Route.Route>, never, ServerLookup.ServerLookup> =>
  Effect.gen(function*() {
    const { ca, directTls, domain, proxies, systemRoots } = options
    if (options.host !== undefined || options.port !== undefined) {
      const endpoint: ServerLookup.Endpoint = {
        host: options.host ?? domain,
        port: options.port ?? ServerLookup.defaultPortFor(directTls),
        directTls: directTls === true
      }
      return [withMaxVersion(ServerLookup.toRoute(domain, endpoint, { proxies, ca, systemRoots }), options)]
    }
    const lookup = yield* ServerLookup.ServerLookup
    const endpoints = yield* lookup.lookup(domain)
    return endpoints
      .filter((endpoint) => directTls === undefined || endpoint.directTls === directTls)
      .map((endpoint) => withMaxVersion(ServerLookup.toRoute(domain, endpoint, { proxies, ca, systemRoots }), options))
  })

const describeRoute = (route: Route.Route) =>
  `${route.host}:${route.port}${route.tls === undefined ? "" : " (direct TLS)"}${
    (route.proxies ?? []).map((p) => ` via ${p._tag} ${p.host}:${p.port}`).join("")
  }`

const connectFailed = (route: Route.Route, cause: ConnectFailure) =>
  cause._tag === "TlsError"
    ? new TransportError({ reason: "TlsFailed", message: `${describeRoute(route)}: ${cause.message}`, cause })
    : new TransportError({ reason: "ConnectFailed", message: `${describeRoute(route)}: ${cause.message}`, cause })

/**
 * Opens the first route that connects. Each attempt has its own scope, so a
 * failed one leaves nothing open; the winner lives as long as `scope`.
 */
const dialFirst = (connector: Connector["Service"], candidates: ReadonlyArray<Route.Route>, scope: Scope.Scope) =>
  Effect.gen(function*() {
    let last: TransportError | undefined
    for (const route of candidates) {
      const attempt = yield* Scope.fork(scope)
      const opened = yield* Scope.provide(connector.connect(route), attempt).pipe(
        Effect.onExit((exit) => (Exit.isFailure(exit) ? Scope.close(attempt, exit) : Effect.void)),
        Effect.mapError((cause) => connectFailed(route, cause)),
        Effect.result
      )
      if (Result.isSuccess(opened)) return opened.success
      last = opened.failure
    }
    return yield* (last ?? new TransportError({ reason: "NoEndpoint", message: "no endpoint to connect to" }))
  })

/**
 * Connects and returns the transport; the connection lives as long as the
 * scope. The stream header is not written here: negotiation writes it.
 *
 * @since 0.1.0
 */
export const connect = (
  options: Options
): Effect.Effect<Transport, TransportError, Scope.Scope | Connector | TlsUpgrade | ServerLookup.ServerLookup> =>
  Effect.gen(function*() {
    const connector = yield* Connector
    const tlsUpgrade = yield* TlsUpgrade
    const scope = yield* Effect.scope
    const candidates = yield* routes(options)
    if (candidates.length === 0) {
      return yield* new TransportError({
        reason: "NoEndpoint",
        message: `${options.domain} offers no client endpoint${options.directTls === undefined ? "" : options.directTls ? " with direct TLS" : " with STARTTLS"}`
      })
    }
    let connection: Connection = yield* dialFirst(connector, candidates, scope)
    const closeTimeout = Duration.fromInputUnsafe(options.closeTimeout ?? Duration.seconds(2))
    const onTraffic = options.onTraffic
    const stanzaScope = XmlSerializer.scopeWithDefault(Namespaces.JABBER_CLIENT, { stream: Namespaces.STREAMS })

    const events = yield* Queue.unbounded<XmlStreamEvent.XmlStreamEvent, TransportError | Cause.Done>()
    const capacity = Math.max(1, options.eventBuffer ?? 512)
    /** Open while the reader may read on: closed when `events` holds its limit. */
    const room = yield* Latch.make(true)
    /** Completed when the server's `</stream:stream>` arrives. */
    const peerClosed = yield* Deferred.make<void>()
    /** Completed when the connection is gone (read error, EOF, bad XML): pending writes fail with it. */
    const lost = yield* Deferred.make<TransportError>()
    const limits = XmlLimits.resolve(options.limits)
    let parser = XmlStreamParser.make(limits)
    let writer = yield* connection.socket.writer
    /** Our `</stream:stream>` went out: nothing may follow it. */
    let footerSent = false

    const writeFailed = (cause: unknown) =>
      new TransportError({ reason: "WriteFailed", message: "writing to the server failed", cause })

    // A write on a connection that is gone may never complete (the socket
    // waits for a drain that never comes), so every write races the loss.
    const writeRaw = (chunks: ReadonlyArray<string>): Effect.Effect<void, TransportError> =>
      Effect.suspend(() => {
        if (Deferred.isDoneUnsafe(lost)) {
          return Effect.flatMap(Deferred.await(lost), (cause) => Effect.fail(writeFailed(cause)))
        }
        const [first, ...rest] = chunks
        if (first === undefined) return Effect.void
        const written = writer.writeAll([first, ...rest]).pipe(Effect.mapError(writeFailed))
        return Effect.raceFirst(
          written,
          Effect.flatMap(Deferred.await(lost), (cause) => Effect.fail(writeFailed(cause)))
        )
      })

    const write = (chunks: ReadonlyArray<string>): Effect.Effect<void, TransportError> =>
      Effect.suspend(() =>
        footerSent
          ? Effect.fail(new TransportError({ reason: "Closed", message: "the stream is closed; nothing more can be sent" }))
          : writeRaw(chunks)
      )

    // Marks the stream closed before the footer is written, so nothing can
    // slip in after it while the write is pending.
    const writeFooter = (lastChunks: ReadonlyArray<string>): Effect.Effect<void, TransportError> =>
      Effect.suspend(() => {
        footerSent = true
        // The limit just grew: let the reader go on to the server's close.
        room.openUnsafe()
        if (onTraffic !== undefined) onTraffic("out", StreamFooter.xml)
        return writeRaw([...lastChunks, StreamFooter.xml])
      })

    // The <stream:error/> that tells the server why its XML was refused.
    const streamErrorXml = (error: XmlError): string =>
      XmlSerializer.toXml(StreamError.toElement(XmlErrorCondition.conditionOf(error)), stanzaScope)

    const eventLimit = () => (footerSent ? capacity * 8 : capacity)

    const serialize = (element: Element.Element): string => {
      const xml = XmlSerializer.toXml(element, stanzaScope)
      if (onTraffic !== undefined) {
        onTraffic("out", Traffic.isSecret(element) ? XmlSerializer.toXml(Traffic.redact(element), stanzaScope) : xml)
      }
      return xml
    }

    const loseConnection = (error: TransportError) =>
      Effect.gen(function*() {
        yield* Deferred.succeed(lost, error)
        yield* Queue.fail(events, error)
      })

    // Reads the connection until it ends, feeding the current parser and
    // queueing its events. Interrupted (not failed) for STARTTLS.
    const pump = (socket: Socket.Socket) =>
      Effect.gen(function*() {
        const decoder = onTraffic === undefined ? undefined : new TextDecoder("utf-8")
        const pull = yield* Socket.readerBytes(socket)
        while (true) {
          const chunks = yield* pull
          for (const chunk of chunks) {
            if (decoder !== undefined && onTraffic !== undefined) onTraffic("in", decoder.decode(chunk, { stream: true }))
            const parsed = parser.push(chunk)
            if (Result.isFailure(parsed)) {
              // RFC 6120 §4.9: tell the server why before the stream ends.
              if (!footerSent) yield* Effect.ignore(writeFooter([streamErrorXml(parsed.failure)]))
              return yield* new TransportError({
                reason: "InvalidXml",
                message: `the server sent unacceptable XML: ${parsed.failure.message}`,
                cause: parsed.failure
              })
            }
            for (const event of parsed.success) {
              if (event._tag === "StreamClose") {
                yield* Deferred.succeed(peerClosed, undefined)
                // RFC 6120 §4.4: answer the server's close with ours.
                if (!footerSent) yield* Effect.ignore(writeFooter([]))
              }
              Queue.offerUnsafe(events, event)
            }
          }
          // Backpressure: stop pulling (so TCP pushes back) until the receiver catches up.
          while (Queue.sizeUnsafe(events) >= eventLimit()) {
            room.closeUnsafe()
            yield* room.await
          }
        }
      }).pipe(
        Effect.scoped,
        Effect.catch((error) => {
          if (error._tag === "TransportError") return loseConnection(error)
          // The socket ended. After the server's close that is the normal end.
          if (Deferred.isDoneUnsafe(peerClosed)) {
            return Effect.andThen(
              Deferred.succeed(lost, new TransportError({ reason: "Closed", message: "the server closed the stream" })),
              Queue.end(events)
            )
          }
          return loseConnection(
            new TransportError({
              reason: "ConnectionLost",
              message: `the connection ended without the server closing the stream (${error.message})`,
              cause: error
            })
          )
        })
      )

    let reading = yield* Effect.forkIn(pump(connection.socket), scope)
    // Whoever still waits on `receive` when the transport's scope ends learns it is closed.
    yield* Scope.addFinalizer(
      scope,
      Queue.fail(events, new TransportError({ reason: "Closed", message: "the transport was shut down" }))
    )

    const receive = Queue.take(events).pipe(
      Effect.tap(() =>
        Effect.sync(() => {
          if (Queue.sizeUnsafe(events) <= eventLimit() / 2) room.openUnsafe()
        })
      ),
      Effect.mapError((error) =>
        Cause.isDone(error)
          ? new TransportError({ reason: "Closed", message: "the server closed the stream" })
          : error
      )
    )

    const startTls = Effect.gen(function*() {
      if (Option.isSome(connection.tls)) {
        return yield* new TransportError({ reason: "Unsupported", message: "the connection is already TLS" })
      }
      // The TLS handshake takes over the socket's bytes: stop reading first.
      yield* Fiber.interrupt(reading)
      if (Deferred.isDoneUnsafe(lost)) return yield* Effect.flatMap(Deferred.await(lost), Effect.fail)
      const upgraded = yield* tlsUpgrade.upgrade(connection, {
        servername: options.domain,
        ca: options.ca,
        ...(options.systemRoots === undefined ? {} : { systemRoots: options.systemRoots }),
        maxVersion: options.maxTlsVersion,
        clientCertificate: options.clientCertificate
      }).pipe(
        Scope.provide(scope),
        Effect.mapError((cause) =>
          new TransportError({ reason: "TlsFailed", message: `STARTTLS with ${options.domain}: ${cause.message}`, cause })
        ),
        Effect.tapError(loseConnection)
      )
      connection = upgraded
      writer = yield* Scope.provide(upgraded.socket.writer, scope)
      reading = yield* Effect.forkIn(pump(upgraded.socket), scope)
      const info = Option.getOrUndefined(upgraded.tls)
      if (info === undefined) {
        return yield* new TransportError({ reason: "TlsFailed", message: "the TLS upgrade returned a plaintext connection" })
      }
      const channel: ChannelBinding.TlsChannel = { tlsVersion: info.tlsVersion, bindings: info.bindings }
      return channel
    })

    const close = (lastElements: ReadonlyArray<Element.Element> = []) =>
      Effect.gen(function*() {
        if (footerSent) {
          if (lastElements.length === 0) return
          return yield* new TransportError({ reason: "Closed", message: "the stream is already closed" })
        }
        yield* writeFooter(lastElements.map(serialize))
        // The server's close comes after everything we sent was read; a
        // connection that ends without it confirms nothing.
        const confirmed = Deferred.isDoneUnsafe(peerClosed) || (yield* Effect.raceFirst(
          Effect.as(Deferred.await(peerClosed), true),
          Effect.as(Deferred.await(lost), false)
        ).pipe(Effect.timeoutOption(closeTimeout), Effect.map(Option.getOrElse(() => false))))
        if (!confirmed) {
          // Nothing more will come that we could trust to be complete: end the events too.
          yield* Queue.fail(events, new TransportError({ reason: "Closed", message: "the stream was closed by us" }))
          return yield* new TransportError({
            reason: "CloseUnconfirmed",
            message: `the server did not close its stream (waited up to ${Duration.format(closeTimeout)})`
          })
        }
      })

    const tls = Option.getOrUndefined(connection.tls)
    const transport: Transport = {
      kind: "tcp",
      receipts: undefined,
      secure: tls !== undefined,
      channel: tls === undefined ? Option.none() : Option.some({ tlsVersion: tls.tlsVersion, bindings: tls.bindings }),
      receive,
      send: (element) => Effect.suspend(() => write([serialize(element)])),
      sendAll: (elements) => Effect.suspend(() => write(elements.map(serialize))),
      sendStreamHeader: (xml) =>
        Effect.suspend(() => {
          if (onTraffic !== undefined) onTraffic("out", xml)
          return write([xml])
        }),
      startTls,
      restart: Effect.sync(() => {
        parser = XmlStreamParser.make(limits)
      }),
      close
    }
    return transport
  })
