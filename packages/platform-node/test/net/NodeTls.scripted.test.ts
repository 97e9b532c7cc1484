/**
 * TLS against scripted peers written in the test (Node `tls` servers with a
 * fixture CA): the channel binding data must equal what the server computes
 * on its side, SNI and ALPN must be what we said, STARTTLS and TLS inside a
 * proxy tunnel must carry bytes.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Connection, Connector, Route, TlsUpgrade } from "@xmpp-core/client"
import { NodeConnector } from "@xmpp-core/platform-node"
import { Deferred, Effect, Option } from "effect"
import * as Crypto from "node:crypto"
import { readFileSync } from "node:fs"
import * as Net from "node:net"
import { dirname, join } from "node:path"
import * as Tls from "node:tls"
import { fileURLToPath } from "node:url"
import { exchange } from "./Read.js"
import { listen } from "./ScriptedPeer.js"

const fixture = (name: string) => readFileSync(join(dirname(fileURLToPath(import.meta.url)), "fixtures", name))
const ca = fixture("ca.pem").toString("utf8")
const key = fixture("localhost.key")
const cert = fixture("localhost.pem")
const certSha384 = fixture("localhost-sha384.pem")

const connectorLayer = NodeConnector.layer({ connectTimeout: 1000 })

interface ServerView {
  readonly servername: string | false
  readonly alpn: string | false
  readonly protocol: string | null
  readonly exporter: Buffer
  readonly clientFinished: Buffer | undefined
}

/** A TLS echo server that reports what it saw of each handshake. */
const tlsServer = (options: Tls.TlsOptions) =>
  Effect.gen(function*() {
    const seen = yield* Deferred.make<ServerView>()
    const server = Tls.createServer({ key, cert, ...options }, (socket) => {
      socket.on("error", () => {})
      Deferred.doneUnsafe(seen, Effect.succeed({
        servername: socket.servername ?? false,
        alpn: socket.alpnProtocol ?? false,
        protocol: socket.getProtocol(),
        exporter: socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0)),
        clientFinished: socket.getPeerFinished()
      }))
      socket.on("data", (data) => socket.write(`tls:${data.toString()}`))
    })
    const port = yield* Effect.acquireRelease(
      Effect.callback<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () => Effect.sync(() => server.close())
    )
    return { port, seen: Deferred.await(seen) }
  })

const connect = (route: Route.Route) =>
  Effect.gen(function*() {
    const connector = yield* Connector.Connector
    return yield* connector.connect(route)
  }).pipe(Effect.provide(connectorLayer))

const upgrade = (connection: Connection.Connection, options: Route.TlsOptions) =>
  Effect.gen(function*() {
    const tls = yield* TlsUpgrade.TlsUpgrade
    return yield* tls.upgrade(connection, options)
  }).pipe(Effect.provide(connectorLayer))

const binding = (connection: Connection.Connection, type: "tls-exporter" | "tls-unique" | "tls-server-end-point") =>
  Option.getOrThrow(Option.flatMap(connection.tls, (info) => info.channelBinding(type))).data

const hex = (data: Uint8Array) => Buffer.from(data).toString("hex")

describe("Node TLS against scripted peers", () => {
  it.live("TLS 1.3: tls-exporter equals the server's exporter, tls-server-end-point is SHA-256 of its certificate", () =>
    Effect.gen(function*() {
      const { port, seen } = yield* tlsServer({ minVersion: "TLSv1.3" })
      const connection = yield* connect(Route.make("localhost", port, { tls: { ca } }))
      assert.strictEqual(yield* exchange(connection, "hi", "tls:hi"), "tls:hi")
      const server = yield* seen
      assert.strictEqual(server.protocol, "TLSv1.3")
      assert.strictEqual(hex(binding(connection, "tls-exporter")), server.exporter.toString("hex"))
      const der = new Crypto.X509Certificate(cert).raw
      assert.strictEqual(hex(binding(connection, "tls-server-end-point")), Crypto.createHash("sha256").update(der).digest("hex"))
      assert.isTrue(Option.isNone(Option.flatMap(connection.tls, (info) => info.channelBinding("tls-unique"))))
    }))

  it.live("TLS 1.2: tls-unique is our Finished message, as the server received it; no tls-exporter", () =>
    Effect.gen(function*() {
      const { port, seen } = yield* tlsServer({ maxVersion: "TLSv1.2" })
      const connection = yield* connect(Route.make("localhost", port, { tls: { ca } }))
      const server = yield* seen
      assert.strictEqual(Option.getOrThrow(connection.tls).tlsVersion, "TLSv1.2")
      assert.strictEqual(hex(binding(connection, "tls-unique")), server.clientFinished?.toString("hex"))
      assert.isTrue(Option.isNone(Option.flatMap(connection.tls, (info) => info.channelBinding("tls-exporter"))))
    }))

  it.live("a certificate signed with SHA-384 gives a SHA-384 tls-server-end-point (RFC 5929 §4.1)", () =>
    Effect.gen(function*() {
      const { port } = yield* tlsServer({ cert: certSha384 })
      const connection = yield* connect(Route.make("localhost", port, { tls: { ca } }))
      const der = new Crypto.X509Certificate(certSha384).raw
      assert.strictEqual(hex(binding(connection, "tls-server-end-point")), Crypto.createHash("sha384").update(der).digest("hex"))
    }))

  it.live("SNI carries the host name and ALPN offers xmpp-client by default", () =>
    Effect.gen(function*() {
      const { port, seen } = yield* tlsServer({ ALPNProtocols: ["xmpp-client"] })
      const connection = yield* connect(Route.make("localhost", port, { tls: { ca } }))
      const server = yield* seen
      assert.strictEqual(server.servername, "localhost")
      assert.strictEqual(server.alpn, "xmpp-client")
      assert.deepStrictEqual(Option.getOrThrow(connection.tls).alpnProtocol, Option.some("xmpp-client"))
    }))

  it.live("an IP literal is verified against the certificate's IP SAN and sent without SNI", () =>
    Effect.gen(function*() {
      const { port, seen } = yield* tlsServer({})
      yield* connect(Route.make("127.0.0.1", port, { tls: { ca, alpnProtocols: [] } }))
      const server = yield* seen
      assert.strictEqual(server.servername, false)
      assert.strictEqual(server.alpn, false)
    }))

  it.live("wrong name: HostnameMismatch; no test CA: CertificateInvalid", () =>
    Effect.gen(function*() {
      const { port } = yield* tlsServer({})
      const mismatch = yield* Effect.flip(connect(Route.make("127.0.0.1", port, { tls: { servername: "xmpp.example.org", ca } })))
      assert.isTrue(mismatch._tag === "TlsError" && mismatch.reason === "HostnameMismatch", mismatch.message)
      const untrusted = yield* Effect.flip(connect(Route.make("localhost", port, { tls: {} })))
      assert.isTrue(untrusted._tag === "TlsError" && untrusted.reason === "CertificateInvalid", untrusted.message)
    }))

  it.live("STARTTLS: plaintext exchange, then the upgraded connection carries bytes", () =>
    Effect.gen(function*() {
      const port = yield* listen((raw) => {
        raw.once("data", () => {
          raw.write("<proceed/>", () => {
            const secure = new Tls.TLSSocket(raw, { isServer: true, key, cert })
            secure.on("error", () => {})
            secure.on("data", (data) => secure.write(`tls:${data.toString()}`))
          })
        })
      })
      const plain = yield* connect(Route.make("localhost", port))
      assert.isTrue(Option.isNone(plain.tls))
      assert.strictEqual(yield* exchange(plain, "<starttls/>", "<proceed/>"), "<proceed/>")
      const secured = yield* upgrade(plain, { ca })
      assert.isTrue(Option.isSome(secured.tls))
      assert.strictEqual(yield* exchange(secured, "ping", "tls:ping"), "tls:ping")
    }))

  it.live("TLS inside an HTTP CONNECT tunnel of a scripted proxy", () =>
    Effect.gen(function*() {
      const { port: target } = yield* tlsServer({})
      const proxy = yield* listen((client) => {
        client.once("data", (request) => {
          const [, authority] = /^CONNECT (\S+) /.exec(request.toString("latin1")) ?? []
          const port = Number(authority?.split(":").pop())
          const upstream = Net.connect({ host: "127.0.0.1", port }, () => {
            client.write("HTTP/1.1 200 Connection established\r\n\r\n")
            client.pipe(upstream).pipe(client)
          })
          upstream.on("error", () => client.destroy())
        })
      })
      const connection = yield* connect(Route.make("localhost", target, { proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: proxy }], tls: { ca } }))
      assert.strictEqual(yield* exchange(connection, "through", "tls:through"), "tls:through")
    }))
})
