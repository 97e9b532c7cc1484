/**
 * Channel binding on real sockets, against peers the real servers here
 * cannot stand in for:
 *
 * - `ScramPeer`, a scripted SCRAM server that advertises XEP-0440 binding
 *   types and checks the binding data with its own side of the TLS
 *   connection (`tls-exporter`, `tls-server-end-point`), and that refuses a
 *   `y` login as RFC 5802 asks of a server that binds;
 * - a scripted TLS relay in front of the real Prosody (TLS 1.2 on both legs,
 *   where Prosody binds with `tls-unique`): a man in the middle with a
 *   certificate the client trusts, once passing the offer through and once
 *   stripping the -PLUS mechanisms from it.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Effect, Schema } from "effect"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import * as Tls from "node:tls"
import * as ScramPeer from "./ScramPeer.js"
import { servers } from "./Servers.js"

const ports = NodeXmppClient.layerPorts()
const s = servers()

const scriptedConfig = (port: number, password: string) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: "alice@localhost",
    password,
    ca: ScramPeer.ca,
    transport: { _tag: "tcp", host: "127.0.0.1", port, directTls: true }
  })

const plusAndPlain = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]

describe("channel binding against a scripted SCRAM server (TLS 1.3)", () => {
  it.live("a listed tls-exporter: -PLUS, and the server's own exporter matches the client's", () =>
    Effect.gen(function*() {
      const peer = yield* ScramPeer.make({ mechanisms: plusAndPlain, bindingTypes: ["tls-exporter"], binds: true })
      const client = yield* XmppClient.connect(scriptedConfig(peer.port, peer.password))
      assert.strictEqual(client.mechanism, "SCRAM-SHA-256-PLUS")
      assert.deepStrictEqual(peer.attempts, [{ mechanism: "SCRAM-SHA-256-PLUS", gs2: "p=tls-exporter,,", outcome: "success" }])
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("only tls-server-end-point listed: -PLUS with the certificate's hash, which the server checks", () =>
    Effect.gen(function*() {
      const peer = yield* ScramPeer.make({ mechanisms: plusAndPlain, bindingTypes: ["tls-server-end-point"], binds: true })
      const client = yield* XmppClient.connect(scriptedConfig(peer.port, peer.password))
      assert.strictEqual(client.mechanism, "SCRAM-SHA-256-PLUS")
      assert.deepStrictEqual(peer.attempts, [{ mechanism: "SCRAM-SHA-256-PLUS", gs2: "p=tls-server-end-point,,", outcome: "success" }])
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  for (
    const [label, offer] of [
      ["the binding list stripped", { mechanisms: plusAndPlain }],
      ["the -PLUS mechanisms stripped", { mechanisms: ["SCRAM-SHA-256"], bindingTypes: ["tls-exporter"] }]
    ] as const
  ) {
    it.live(`${label}: the client says y, and the server that binds ends the login in a typed downgrade error`, () =>
      Effect.gen(function*() {
        const peer = yield* ScramPeer.make({ ...offer, binds: true })
        const error = yield* XmppClient.connect(scriptedConfig(peer.port, peer.password)).pipe(Effect.flip)
        assert.deepStrictEqual(peer.attempts, [{ mechanism: "SCRAM-SHA-256", gs2: "y,,", outcome: "refused-y" }])
        assert.strictEqual(error.reason, "AuthenticationFailed")
        assert.strictEqual(error.condition, "channel-binding-downgrade")
        assert.match(error.message, /possible downgrade/)
      }).pipe(Effect.scoped, Effect.provide(ports)))
  }

  it.live("a server that does not bind takes the same y login", () =>
    Effect.gen(function*() {
      const peer = yield* ScramPeer.make({ mechanisms: ["SCRAM-SHA-256"], binds: false })
      const client = yield* XmppClient.connect(scriptedConfig(peer.port, peer.password))
      assert.strictEqual(client.mechanism, "SCRAM-SHA-256")
      assert.deepStrictEqual(peer.attempts, [{ mechanism: "SCRAM-SHA-256", gs2: "y,,", outcome: "success" }])
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)))
})

// The relay's certificate: the test servers' own, so the client trusts the man in the middle.
const pki = dirname(s.ca)
const relayKey = readFileSync(join(pki, "localhost.key"))
const relayCert = readFileSync(join(pki, "localhost.pem"))

/**
 * A scripted TLS relay to Prosody's direct TLS port, TLS 1.2 on both legs;
 * `strip` removes the -PLUS mechanisms from what Prosody offers.
 */
const relay = (strip: boolean) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Tls.Server; readonly port: number; readonly sockets: Set<Tls.TLSSocket> }>((resume) => {
      const sockets = new Set<Tls.TLSSocket>()
      const server = Tls.createServer({ key: relayKey, cert: relayCert, maxVersion: "TLSv1.2" }, (client) => {
        const upstream = Tls.connect({
          host: "127.0.0.1",
          port: s.prosody.c2sDirectTls,
          servername: s.domain,
          ca: readFileSync(s.ca),
          maxVersion: "TLSv1.2"
        })
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on("error", () => {
            client.destroy()
            upstream.destroy()
          })
        }
        client.on("data", (data: Buffer) => upstream.write(data))
        upstream.on("data", (data: Buffer) =>
          client.write(strip ? data.toString("utf8").replace(/<mechanism>SCRAM-[A-Z0-9-]+-PLUS<\/mechanism>/g, "") : data)
        )
        client.on("end", () => upstream.end())
        upstream.on("end", () => client.end())
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed({ server, port: typeof address === "object" && address !== null ? address.port : 0, sockets }))
      })
    }),
    ({ server, sockets }) =>
      Effect.callback<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ port }) => port))

const throughRelay = (port: number) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: `alice@${s.domain}`,
    password: s.accounts.alice,
    ca: readFileSync(s.ca, "utf8"),
    transport: { _tag: "tcp", host: "127.0.0.1", port, directTls: true, maxTlsVersion: "TLSv1.2" }
  })

describe("a TLS-terminating relay in front of the real Prosody (TLS 1.2)", () => {
  it.live("passing the offer through: the client binds its own TLS leg, and Prosody refuses the mismatch", () =>
    Effect.gen(function*() {
      const port = yield* relay(false)
      const error = yield* XmppClient.connect(throughRelay(port)).pipe(Effect.flip)
      assert.strictEqual(error.reason, "AuthenticationFailed")
      assert.strictEqual(error.condition, "malformed-request")
      assert.match(error.message, /SCRAM-SHA-256-PLUS failed.*Invalid channel binding value/)
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("stripping -PLUS: the client says y, Prosody (which binds) refuses, and the client names a possible downgrade", () =>
    Effect.gen(function*() {
      const port = yield* relay(true)
      const error = yield* XmppClient.connect(throughRelay(port)).pipe(Effect.flip)
      assert.strictEqual(error.reason, "AuthenticationFailed")
      assert.strictEqual(error.condition, "channel-binding-downgrade")
      assert.match(error.message, /SASL SCRAM-SHA-256 was sent without channel binding \(flag y: the server offers no -PLUS mechanism\)/)
    }).pipe(Effect.scoped, Effect.provide(ports)))
})
