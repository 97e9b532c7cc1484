/**
 * XmppClient over BOSH against the real connection managers of
 * `./run servers up`: Prosody 0.12 (`/http-bind`, `consider_bosh_secure`)
 * and ejabberd 23.01 (`/bosh`, §15 keys enforced), on undici, trusting the
 * test CA explicitly. The peer of every exchange is a TCP client, so each
 * message crosses transports.
 *
 * HTTP pipelining is refused for sessions that hold requests: measured on
 * both managers, a request pipelined behind the held poll waits until `wait`
 * runs out, and ejabberd 23.01 answers two requests in one read with 400
 * (`BoshHttpInterop.test.ts` pins both).
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient, type XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Duration, Effect, Fiber, Stream } from "effect"
import { boshConfig, config, type ServerName, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()
const SLOW = 30_000

const tcpPeer = (server: ServerName, resource: string) => config(s, server, "bob", { resource })

const message = (to: Jid.Jid, id: string, body = id) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: Jid.format(to), id, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

const idOf = (stanza: Element.Element) => Element.attribute(stanza, "id") ?? ""

/** Ids of the stanzas named `name` whose id starts with `prefix`, up to and including the id `last`. */
const collectUntil = (client: XmppClient.XmppClient["Service"], prefix: string, last: string, name = "message") =>
  client.stanzas.pipe(
    Stream.filter((stanza) => stanza.name === name && idOf(stanza).startsWith(prefix)),
    Stream.map(idOf),
    Stream.takeUntil((id) => id === last),
    Stream.runCollect,
    Effect.timeout(Duration.seconds(20))
  )

const connect = (configuration: XmppClientConfig.XmppClientConfig, traffic?: Array<string>) =>
  XmppClient.connect(configuration, traffic === undefined ? {} : { onTraffic: (d, xml) => traffic.push(`${d} ${xml}`) })

let counter = 0
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}`

describe.each(["prosody", "ejabberd"] as const)("XmppClient over BOSH against %s", (server) => {
  it.live("https: SCRAM-SHA-256 binds the requested resource; the session names the account", () =>
    Effect.gen(function*() {
      const traffic: Array<string> = []
      const client = yield* connect(
        boshConfig(s, server, "alice", "https", { resource: "bosh-scram", mechanisms: ["SCRAM-SHA-256"] }),
        traffic
      )
      assert.strictEqual(client.transport, "bosh")
      assert.strictEqual(client.mechanism, "SCRAM-SHA-256")
      assert.deepStrictEqual(client.jid, { local: "alice", domain: s.domain, resource: "bosh-scram" })
      const creation = traffic[0] ?? ""
      assert.match(creation, /^out <body [^>]*to='localhost'/)
      assert.match(creation, /from='alice@localhost'/)
      assert.match(creation, /xmpp:version='1.0'/)
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("https: PLAIN logs in; the XML console shows the bodies with the SASL payload redacted", () =>
    Effect.gen(function*() {
      const traffic: Array<string> = []
      const client = yield* connect(boshConfig(s, server, "alice", "https", { resource: "bosh-plain", mechanisms: ["PLAIN"] }), traffic)
      assert.strictEqual(client.mechanism, "PLAIN")
      const auth = traffic.find((line) => line.startsWith("out ") && line.includes("<auth"))
      assert.isDefined(auth)
      assert.include(auth, "…redacted…")
      const secret = Buffer.from(`\u0000alice\u0000${s.accounts.alice}`).toString("base64")
      assert.isFalse(traffic.some((line) => line.includes(secret)), "the PLAIN payload leaked into the console")
      assert.isTrue(traffic.some((line) => line.startsWith("in ") && line.includes("<success")))
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("http: refused by default, PLAIN still refused with only allowPlaintext, accepted with both permissions", () =>
    Effect.gen(function*() {
      const byDefault = yield* connect(boshConfig(s, server, "alice", "http", { mechanisms: ["PLAIN"] })).pipe(Effect.flip)
      assert.strictEqual(byDefault.reason, "NegotiationFailed")
      assert.strictEqual(byDefault.condition, "plaintext-not-allowed")
      assert.match(byDefault.message, /setting allowPlaintext/)
      const plaintextOnly = yield* connect(
        boshConfig(s, server, "alice", "http", { mechanisms: ["PLAIN"], allowPlaintext: true })
      ).pipe(Effect.flip)
      assert.strictEqual(plaintextOnly.reason, "NegotiationFailed")
      assert.strictEqual(plaintextOnly.condition, "no-acceptable-mechanism")
      assert.match(plaintextOnly.message, /PLAIN would send the password on an unencrypted stream \(setting allowPlainWithoutTls\)/)
      const traffic: Array<string> = []
      const client = yield* connect(
        boshConfig(s, server, "alice", "http", {
          resource: "bosh-http-plain",
          mechanisms: ["PLAIN"],
          allowPlaintext: true,
          allowPlainWithoutTls: true
        }),
        traffic
      )
      assert.strictEqual(client.mechanism, "PLAIN")
      assert.strictEqual(client.jid.resource, "bosh-http-plain")
      // Over plain HTTP the account is not named in the session request.
      assert.notMatch(traffic[0] ?? "", /from=/)
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("http with allowPlaintext: SCRAM-SHA-256 logs in", () =>
    Effect.gen(function*() {
      const client = yield* connect(
        boshConfig(s, server, "alice", "http", { resource: "bosh-http-scram", mechanisms: ["SCRAM-SHA-256"], allowPlaintext: true })
      )
      assert.strictEqual(client.mechanism, "SCRAM-SHA-256")
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("a wrong password is AuthenticationFailed with not-authorized", () =>
    Effect.gen(function*() {
      const error = yield* connect(boshConfig(s, server, "alice", "https", { password: "wrong-password" })).pipe(Effect.flip)
      assert.strictEqual(error.reason, "AuthenticationFailed")
      assert.strictEqual(error.condition, "not-authorized")
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("alice over BOSH → bob over TCP arrives exactly once with its id; bob → alice over BOSH too", () =>
    Effect.gen(function*() {
      const alice = yield* connect(boshConfig(s, server, "alice", "https", { resource: unique("a") }))
      const bob = yield* connect(tcpPeer(server, unique("b")))
      const prefix = unique("once")
      const bobSees = yield* Effect.forkChild(collectUntil(bob, prefix, `${prefix}-end`))
      yield* alice.send(message(bob.jid, `${prefix}-1`, "hello over BOSH"))
      yield* alice.send(message(bob.jid, `${prefix}-end`))
      assert.deepStrictEqual(yield* Fiber.join(bobSees), [`${prefix}-1`, `${prefix}-end`])

      const back = unique("back")
      const aliceSees = yield* Effect.forkChild(collectUntil(alice, back, `${back}-end`))
      yield* bob.send(message(alice.jid, `${back}-1`, "hello over TCP"))
      yield* bob.send(message(alice.jid, `${back}-end`))
      assert.deepStrictEqual(yield* Fiber.join(aliceSees), [`${back}-1`, `${back}-end`])
      yield* Effect.all([alice.close, bob.close], { concurrency: 2 })
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("500 messages each way arrive complete and in order", () =>
    Effect.gen(function*() {
      const count = 500
      const alice = yield* connect(boshConfig(s, server, "alice", "https", { resource: unique("burst-a") }))
      const bob = yield* connect(tcpPeer(server, unique("burst-b")))
      const out = unique("out")
      const ids = (prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`)
      const bobSees = yield* Effect.forkChild(collectUntil(bob, out, `${out}-${count - 1}`))
      yield* Effect.forEach(ids(out), (id) => alice.send(message(bob.jid, id)), { discard: true })
      assert.deepStrictEqual(yield* Fiber.join(bobSees), ids(out))

      const back = unique("in")
      const aliceSees = yield* Effect.forkChild(collectUntil(alice, back, `${back}-${count - 1}`))
      yield* Effect.forEach(ids(back), (id) => bob.send(message(alice.jid, id)), { discard: true })
      assert.deepStrictEqual(yield* Fiber.join(aliceSees), ids(back))
      yield* Effect.all([alice.close, bob.close], { concurrency: 2 })
    }).pipe(Effect.scoped, Effect.provide(ports)), 60_000)

  it.live("a message and a presence sent right before close still arrive (terminate carries them)", () =>
    Effect.gen(function*() {
      const bob = yield* connect(tcpPeer(server, unique("close-b")))
      const alice = yield* connect(boshConfig(s, server, "alice", "https", { resource: unique("close-a") }))
      const prefix = unique("last")
      const bobSees = yield* Effect.forkChild(
        bob.stanzas.pipe(
          Stream.filter((stanza) => idOf(stanza).startsWith(prefix)),
          Stream.map((stanza) => `${stanza.name}:${idOf(stanza)}`),
          Stream.take(2),
          Stream.runCollect,
          Effect.timeout(Duration.seconds(20))
        )
      )
      yield* alice.send(message(bob.jid, `${prefix}-m`))
      yield* alice.send(
        Element.make("presence", { namespace: Namespaces.JABBER_CLIENT, attributes: { to: Jid.format(bob.jid), id: `${prefix}-p` } })
      )
      yield* alice.close
      assert.deepStrictEqual(yield* Fiber.join(bobSees), [`message:${prefix}-m`, `presence:${prefix}-p`])
      // Closed: nothing more goes out, and the stanzas end.
      const after = yield* alice.send(message(bob.jid, `${prefix}-late`)).pipe(Effect.flip)
      assert.strictEqual(after.reason, "Closed")
      yield* bob.close
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  describe.each(["close", "keep-alive"] as const)("HTTP mode %s", (mode) => {
    it.live("logs in over https and carries a round trip with a TCP peer", () =>
      Effect.gen(function*() {
        const alice = yield* connect(boshConfig(s, server, "alice", "https", { resource: unique(`mode-${mode}`), mode }))
        const bob = yield* connect(tcpPeer(server, unique("mode-b")))
        const prefix = unique(mode)
        const bobSees = yield* Effect.forkChild(collectUntil(bob, prefix, `${prefix}-end`))
        yield* alice.send(message(bob.jid, `${prefix}-end`))
        assert.deepStrictEqual(yield* Fiber.join(bobSees), [`${prefix}-end`])
        yield* Effect.all([alice.close, bob.close], { concurrency: 2 })
      }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
  })

  describe.each(["http", "https"] as const)("through tinyproxy to the %s manager", (scheme) => {
    const secureLogin = scheme === "https" ? {} : { allowPlaintext: true }
    it.live("open proxy", () =>
      Effect.gen(function*() {
        const client = yield* connect(
          boshConfig(s, server, "alice", scheme, {
            resource: unique("proxy-open"),
            mechanisms: ["SCRAM-SHA-256"],
            ...secureLogin,
            proxies: [{ _tag: "HttpConnect", host: "127.0.0.1", port: s.tinyproxy.open }]
          })
        )
        assert.strictEqual(client.mechanism, "SCRAM-SHA-256")
        yield* client.close
      }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

    it.live("proxy with credentials", () =>
      Effect.gen(function*() {
        const client = yield* connect(
          boshConfig(s, server, "alice", scheme, {
            resource: unique("proxy-auth"),
            mechanisms: ["SCRAM-SHA-256"],
            ...secureLogin,
            proxies: [{
              _tag: "HttpConnect",
              host: "127.0.0.1",
              port: s.tinyproxy.auth,
              credentials: { username: s.tinyproxy.user, password: s.tinyproxy.password }
            }]
          })
        )
        assert.strictEqual(client.jid.local, "alice")
        yield* client.close
      }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
  })
})

describe("XmppClient over BOSH: HTTP pipelining is refused where it cannot work", () => {
  it("with a session that holds requests (hold ≥ 1, the default), before connecting, saying why", () => {
    const refused = () => boshConfig(s, "prosody", "alice", "https", { mode: "pipelining" })
    assert.throws(refused, /pipelining needs hold 0: a request pipelined behind a held one waits up to `wait`/)
  })

  it.live("with hold 0 Prosody still grants hold 1: the session is refused as invalid, typed", () =>
    Effect.gen(function*() {
      const error = yield* connect(boshConfig(s, "prosody", "alice", "https", { mode: "pipelining", hold: 0 })).pipe(
        Effect.flip
      )
      assert.strictEqual(error.reason, "ConnectFailed")
      assert.strictEqual(error.condition, "invalid-session-response")
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
})

describe("XmppClient over BOSH: refusals", () => {


  it.live("a SOCKS5 proxy is refused for BOSH (TransportUnavailable), never skipped", () =>
    Effect.gen(function*() {
      const error = yield* connect(
        boshConfig(s, "prosody", "alice", "https", { proxies: [{ _tag: "Socks5", host: "127.0.0.1", port: s.microsocks.open }] })
      ).pipe(Effect.flip)
      assert.strictEqual(error.reason, "TransportUnavailable")
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("NodeXmppClient.layer gives a connected BOSH client in one line", () =>
    Effect.gen(function*() {
      const client = yield* XmppClient.XmppClient
      assert.strictEqual(client.transport, "bosh")
      assert.strictEqual(client.jid.resource, "layer-bosh")
    }).pipe(Effect.provide(NodeXmppClient.layer(boshConfig(s, "ejabberd", "alice", "https", { resource: "layer-bosh" })))), SLOW)
})
