/**
 * TLS against real peers: Prosody's direct TLS port, STARTTLS on its c2s
 * port, and openssl s_server with an untrusted certificate and with a
 * certificate for another name. Verification is never turned off: the test
 * CA is trusted explicitly.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Connection, Connector, Route, TlsUpgrade } from "@xmpp-core/client"
import { NodeConnector } from "@xmpp-core/platform-node"
import { Effect, Option } from "effect"
import { exchange } from "./Read.js"
import { caPem, servers, streamHeader } from "./Servers.js"

const s = servers()
const ca = caPem(s)
const connectorLayer = NodeConnector.layer({ connectTimeout: 2000 })

const connect = (route: Route.Route) =>
  Effect.gen(function*() {
    const connector = yield* Connector.Connector
    return yield* connector.connect(route)
  }).pipe(Effect.provide(connectorLayer))

const failure = (route: Route.Route) => Effect.flip(connect(route))

const upgrade = (connection: Connection.Connection, options: Route.TlsOptions) =>
  Effect.gen(function*() {
    const tls = yield* TlsUpgrade.TlsUpgrade
    return yield* tls.upgrade(connection, options)
  }).pipe(Effect.provide(connectorLayer))

/** Checks the channel binding data a TLS connection offers, by its protocol version. */
const assertChannelBindings = (connection: Connection.Connection) => {
  const info = Option.getOrThrow(connection.tls)
  // The list (SASL's TlsChannel view) and the lookup agree.
  const types = ["tls-exporter", "tls-server-end-point", "tls-unique"] as const
  assert.deepStrictEqual(
    info.bindings.map((b) => b.type).sort(),
    types.filter((type) => Option.isSome(info.channelBinding(type))).sort()
  )
  const endPoint = Option.getOrThrow(info.channelBinding("tls-server-end-point"))
  assert.strictEqual(endPoint.type, "tls-server-end-point")
  // The test certificate is signed with SHA-256 (or weaker): a SHA-256 hash, 32 bytes.
  assert.strictEqual(endPoint.data.length, 32)
  if (info.tlsVersion === "TLSv1.3") {
    const exporter = Option.getOrThrow(info.channelBinding("tls-exporter"))
    assert.strictEqual(exporter.data.length, 32)
    assert.isTrue(exporter.data.some((byte) => byte !== 0))
    assert.isTrue(Option.isNone(info.channelBinding("tls-unique")))
  } else {
    assert.strictEqual(info.tlsVersion, "TLSv1.2")
    const unique = Option.getOrThrow(info.channelBinding("tls-unique"))
    assert.strictEqual(unique.data.length, 12)
  }
  return info
}

describe("NodeConnector TLS against real peers", () => {
  it.live("direct TLS to Prosody 25223: verified against the test CA, ALPN offered, channel bindings present", () =>
    Effect.gen(function*() {
      const connection = yield* connect(Route.make("127.0.0.1", s.prosody.c2sDirectTls, { tls: { servername: "localhost", ca } }))
      const info = assertChannelBindings(connection)
      // Prosody may or may not select ALPN; if it does, it is what we offered (XEP-0368).
      assert.isTrue(Option.isNone(info.alpnProtocol) || Option.getOrThrow(info.alpnProtocol) === "xmpp-client")
      const received = yield* exchange(connection, streamHeader(s.domain), "</stream:features>")
      assert.include(received, "<stream:features")
      assert.notInclude(received, "urn:ietf:params:xml:ns:xmpp-tls'><required")
    }))

  it.live("the certificate's IP address SAN verifies a connection by IP without SNI", () =>
    Effect.gen(function*() {
      const connection = yield* connect(Route.make("127.0.0.1", s.prosody.c2sDirectTls, { tls: { ca } }))
      assert.isTrue(Option.isSome(connection.tls))
    }))

  it.live("the test CA is not trusted by default: CertificateInvalid", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.prosody.c2sDirectTls, { tls: { servername: "localhost" } }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "CertificateInvalid", error.message)
      assert.deepStrictEqual(error.hop, { index: 1, kind: "Tls", host: "127.0.0.1", port: s.prosody.c2sDirectTls })
    }))

  it.live("a self-signed certificate outside the test CA: CertificateInvalid", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.untrusted.https, { tls: { servername: "localhost", ca } }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "CertificateInvalid", error.message)
    }))

  it.live("a certificate for wrong.example when asking for localhost: HostnameMismatch", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.wrongName.tls, { tls: { servername: "localhost", ca } }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "HostnameMismatch", error.message)
    }))

  it.live("Prosody's certificate when asking for another name: HostnameMismatch", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.prosody.c2sDirectTls, { tls: { servername: "xmpp.example.org", ca } }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "HostnameMismatch", error.message)
    }))

  it.live("TLS to a plaintext XMPP port is TlsError HandshakeFailed, not a hang", () =>
    Effect.gen(function*() {
      const error = yield* failure(Route.make("127.0.0.1", s.prosody.c2s, { tls: { servername: "localhost", ca } }))
      assert.isTrue(error._tag === "TlsError" && error.reason === "HandshakeFailed", error.message)
    }))

  it.live("STARTTLS on Prosody 25222: <starttls/>, <proceed/>, upgrade, verified, channel bindings, a new stream over TLS", () =>
    Effect.gen(function*() {
      const plain = yield* connect(Route.make("127.0.0.1", s.prosody.c2s))
      const offered = yield* exchange(plain, streamHeader(s.domain), "</stream:features>")
      assert.include(offered, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'")
      const answer = yield* exchange(plain, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "proceed")
      assert.match(answer, /<proceed xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]\/>/)
      const secured = yield* upgrade(plain, { servername: "localhost", ca })
      assertChannelBindings(secured)
      const features = yield* exchange(secured, streamHeader(s.domain), "</stream:features>")
      assert.include(features, "urn:ietf:params:xml:ns:xmpp-sasl")
    }))

  it.live("STARTTLS verifies the host name too: HostnameMismatch", () =>
    Effect.gen(function*() {
      const plain = yield* connect(Route.make("127.0.0.1", s.prosody.c2s))
      yield* exchange(plain, streamHeader(s.domain), "</stream:features>")
      yield* exchange(plain, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "proceed")
      const error = yield* Effect.flip(upgrade(plain, { servername: "xmpp.example.org", ca }))
      assert.strictEqual(error.reason, "HostnameMismatch", error.message)
    }))

  it.live("upgrading a connection that is already TLS is TlsError Unsupported", () =>
    Effect.gen(function*() {
      const connection = yield* connect(Route.make("127.0.0.1", s.prosody.c2sDirectTls, { tls: { servername: "localhost", ca } }))
      const error = yield* Effect.flip(upgrade(connection, { servername: "localhost", ca }))
      assert.strictEqual(error.reason, "Unsupported")
    }))
})
