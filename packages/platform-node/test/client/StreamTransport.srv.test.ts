/**
 * StreamTransport with DNS SRV against the test dnsmasq: `example.test` has
 * `_xmpps-client` on Prosody's direct TLS port (priority 5) and
 * `_xmpp-client` on Prosody's (10) and ejabberd's (20) STARTTLS ports, all on
 * `localhost`. The certificate names `localhost`, not
 * `example.test`, so the direct TLS endpoint must fail verification and the
 * transport must go on to the next endpoint (STARTTLS, plaintext at first).
 */
import { assert, describe, it } from "@effect/vitest"
import { StreamTransport, TlsError } from "@xmpp-core/client"
import { NodeConnector, NodeServerLookup } from "@xmpp-core/platform-node"
import { StreamError } from "@xmpp-core/protocol"
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { servers } from "./Servers.js"

const s = servers()
const ca = readFileSync(s.ca, "utf8")
const ports = Layer.merge(
  NodeConnector.layer(),
  NodeServerLookup.layer({ nameServers: [`127.0.0.1:${s.dnsmasq.port}`] })
)

describe("StreamTransport with SRV (dnsmasq)", () => {
  it.live("tries the SRV endpoints in order and skips the one whose certificate does not name the domain", () =>
    Effect.gen(function*() {
      const routes = yield* StreamTransport.routes({ domain: s.dnsmasq.srvDomain, ca })
      assert.deepStrictEqual(routes.map((r) => `${r.port}${r.tls === undefined ? "" : " tls"}`), [
        `${s.prosody.c2sDirectTls} tls`,
        `${s.prosody.c2s}`,
        `${s.ejabberd.c2s}`
      ])
      assert.strictEqual(routes[0]?.tls?.servername, s.dnsmasq.srvDomain)
      const transport = yield* StreamTransport.connect({ domain: s.dnsmasq.srvDomain, ca })
      // Connected on the STARTTLS endpoint: not yet encrypted.
      assert.isFalse(transport.secure)
      yield* transport.sendStreamHeader(
        `<?xml version='1.0'?><stream:stream to='${s.dnsmasq.srvDomain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
      )
      // Prosody serves only localhost: a stream header, then host-unknown.
      assert.strictEqual((yield* transport.receive)._tag, "StreamOpen")
      let event = yield* transport.receive
      // Some servers send features before refusing; skip to the error.
      while (event._tag === "StreamElement" && !StreamError.isStreamError(event.element)) event = yield* transport.receive
      assert.strictEqual(event._tag === "StreamElement" ? StreamError.fromElement(event.element).reason : event._tag, "host-unknown")
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("a port without a host is the domain itself at that port: the SRV records (which name other ports) are not used", () =>
    Effect.gen(function*() {
      const routes = yield* StreamTransport.routes({ domain: s.dnsmasq.srvDomain, ca, port: s.ejabberd.c2s })
      assert.deepStrictEqual(routes.map((r) => `${r.host}:${r.port}${r.tls === undefined ? "" : " tls"}`), [
        `${s.dnsmasq.srvDomain}:${s.ejabberd.c2s}`
      ])
      const direct = yield* StreamTransport.routes({ domain: "localhost", ca, port: s.prosody.c2sDirectTls, directTls: true })
      assert.deepStrictEqual(direct.map((r) => `${r.host}:${r.port} ${r.tls?.servername}`), [
        `localhost:${s.prosody.c2sDirectTls} localhost`
      ])
    }).pipe(Effect.provide(ports)))

  it.live("direct TLS only: the certificate mismatch is a typed TlsFailed with the TlsError inside", () =>
    Effect.gen(function*() {
      const error = yield* StreamTransport.connect({ domain: s.dnsmasq.srvDomain, ca, directTls: true }).pipe(Effect.flip)
      assert.strictEqual(error.reason, "TlsFailed")
      assert.isTrue(error.cause instanceof TlsError && error.cause.reason === "HostnameMismatch")
    }).pipe(Effect.scoped, Effect.provide(ports)))
})
