/**
 * XmppClient against the real servers of `./run servers up` (Prosody 0.12,
 * ejabberd 23.01, tinyproxy, microsocks), trusting the test CA explicitly,
 * with default SASL settings unless a test is about them (mechanism choice
 * per server and TLS version, ANONYMOUS and EXTERNAL: XmppClientSasl.interop).
 */
import { assert, describe, it } from "@effect/vitest"
import { ProxyError, TransportError, XmppClient, type XmppClientError } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Effect, Fiber, Stream } from "effect"
import { config, type ServerName, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()

const message = (to: Jid.Jid, id: string, body: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: Jid.format(to), id, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

const isMessage = (stanza: Element.Element) => stanza.name === "message"
const bodyOf = (stanza: Element.Element) => {
  const body = Element.child(stanza, "body", Namespaces.JABBER_CLIENT)
  return body === undefined ? undefined : Element.text(body)
}

/** The next `count` message stanzas bob receives. */
const receiveMessages = (client: XmppClient.XmppClient["Service"], count: number) =>
  client.stanzas.pipe(Stream.filter(isMessage), Stream.take(count), Stream.runCollect)

const loginFails = (server: ServerName, overrides: Parameters<typeof config>[3]) =>
  XmppClient.connect(config(s, server, "alice", overrides)).pipe(Effect.flip, Effect.scoped)

describe.each(["prosody", "ejabberd"] as const)("XmppClient against %s", (server) => {
  it.live("STARTTLS + SCRAM-SHA-256 binds the requested resource", () =>
    Effect.gen(function*() {
      const client = yield* XmppClient.connect(
        config(s, server, "alice", { resource: "starttls-scram", mechanisms: ["SCRAM-SHA-256"] })
      )
      assert.strictEqual(Jid.format(client.jid), `alice@${s.domain}/starttls-scram`)
      assert.strictEqual(client.mechanism, "SCRAM-SHA-256")
      assert.strictEqual(client.transport, "tcp")
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("direct TLS (XEP-0368) + SCRAM-SHA-256", () =>
    Effect.gen(function*() {
      const client = yield* XmppClient.connect(
        config(s, server, "alice", { directTls: true, resource: "direct-tls", mechanisms: ["SCRAM-SHA-256"] })
      )
      assert.strictEqual(Jid.format(client.jid), `alice@${s.domain}/direct-tls`)
      assert.strictEqual(client.mechanism, "SCRAM-SHA-256")
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("PLAIN over TLS", () =>
    Effect.gen(function*() {
      const client = yield* XmppClient.connect(config(s, server, "alice", { mechanisms: ["PLAIN"], resource: "plain" }))
      assert.strictEqual(client.mechanism, "PLAIN")
      assert.strictEqual(client.jid.resource, "plain")
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("a wrong password is AuthenticationFailed with SASL not-authorized, password not in the error", () =>
    Effect.gen(function*() {
      const secret = "wrong-password-9f3b1c"
      for (const mechanisms of [["SCRAM-SHA-256"], ["PLAIN"]]) {
        const error: XmppClientError = yield* loginFails(server, { password: secret, mechanisms })
        assert.strictEqual(error.reason, "AuthenticationFailed")
        assert.strictEqual(error.condition, "not-authorized")
        assert.notInclude(JSON.stringify(error), secret)
        assert.notInclude(String(error), secret)
      }
    }).pipe(Effect.provide(ports)))

  it.live("alice's message reaches bob exactly once with its id", () =>
    Effect.gen(function*() {
      const alice = yield* XmppClient.connect(config(s, server, "alice", { resource: "sender" }))
      const bob = yield* XmppClient.connect(config(s, server, "bob", { resource: "receiver" }))
      const id = `m-${server}-${Date.now()}`
      yield* alice.send(message(bob.jid, id, "hello bob"))
      // A marker after it: the next message after the first must be the marker, not a copy.
      yield* alice.send(message(bob.jid, `${id}-marker`, "marker"))
      const received = yield* receiveMessages(bob, 2)
      assert.deepStrictEqual(received.map((m) => Element.attribute(m, "id")), [id, `${id}-marker`])
      const [first] = received
      assert.strictEqual(first === undefined ? undefined : bodyOf(first), "hello bob")
      const from = first === undefined ? undefined : Element.attribute(first, "from")
      assert.strictEqual(from, Jid.format(alice.jid))
      yield* alice.close
      yield* bob.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("a burst of 500 messages arrives complete and in order", () =>
    Effect.gen(function*() {
      const alice = yield* XmppClient.connect(config(s, server, "alice", { resource: "burst-a" }))
      const bob = yield* XmppClient.connect(config(s, server, "bob", { resource: "burst-b" }))
      const receiving = yield* Effect.forkChild(receiveMessages(bob, 500))
      for (let i = 0; i < 500; i++) yield* alice.send(message(bob.jid, `burst-${i}`, String(i)))
      const received = yield* Fiber.join(receiving)
      assert.strictEqual(received.length, 500)
      assert.deepStrictEqual(received.map(bodyOf), Array.from({ length: 500 }, (_, i) => String(i)))
      yield* alice.close
      yield* bob.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("through tinyproxy (HTTP CONNECT with Basic auth) and microsocks (SOCKS5 with auth)", () =>
    Effect.gen(function*() {
      const viaHttp = {
        _tag: "HttpConnect",
        host: "127.0.0.1",
        port: s.tinyproxy.auth,
        credentials: { username: s.tinyproxy.user, password: s.tinyproxy.password }
      }
      const viaSocks = {
        _tag: "Socks5",
        host: "127.0.0.1",
        port: s.microsocks.auth,
        credentials: { username: s.microsocks.user, password: s.microsocks.password }
      }
      const alice = yield* XmppClient.connect(
        config(s, server, "alice", { proxies: [viaHttp], resource: "via-http" })
      )
      const bob = yield* XmppClient.connect(
        config(s, server, "bob", { proxies: [viaSocks], directTls: true, resource: "via-socks" })
      )
      yield* alice.send(message(bob.jid, "proxied-1", "through two proxies"))
      const [received] = yield* receiveMessages(bob, 1)
      assert.strictEqual(received === undefined ? undefined : bodyOf(received), "through two proxies")
      yield* alice.close
      yield* bob.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("through a chain: microsocks (open) then tinyproxy (open) to the server", () =>
    Effect.gen(function*() {
      const chain = [
        { _tag: "Socks5", host: "127.0.0.1", port: s.microsocks.open },
        { _tag: "HttpConnect", host: "127.0.0.1", port: s.tinyproxy.open }
      ]
      const client = yield* XmppClient.connect(
        config(s, server, "alice", { proxies: chain, resource: "chained" })
      )
      assert.strictEqual(client.jid.resource, "chained")
      yield* client.send(message(client.jid, "chain-1", "around the chain"))
      const [echo] = yield* receiveMessages(client, 1)
      assert.strictEqual(echo === undefined ? undefined : bodyOf(echo), "around the chain")
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("a proxy refusing our credentials is ConnectFailed with the typed ProxyError inside", () =>
    Effect.gen(function*() {
      const error = yield* loginFails(server, {
        proxies: [{
          _tag: "HttpConnect",
          host: "127.0.0.1",
          port: s.tinyproxy.auth,
          credentials: { username: s.tinyproxy.user, password: "not-the-proxy-password" }
        }]
      })
      assert.strictEqual(error.reason, "ConnectFailed")
      assert.isTrue(error.cause instanceof TransportError && error.cause.reason === "ConnectFailed")
      const proxyError = error.cause instanceof TransportError ? error.cause.cause : undefined
      assert.isTrue(proxyError instanceof ProxyError && proxyError.reason === "AuthRequired")
      assert.notInclude(JSON.stringify(error), "not-the-proxy-password")
    }).pipe(Effect.provide(ports)))

  it.live("a second login with the same resource ends the first stream with a typed stream error", () =>
    Effect.gen(function*() {
      const first = yield* XmppClient.connect(config(s, server, "alice", { resource: "twice" }))
      const ended = yield* Effect.forkChild(Stream.runDrain(first.stanzas).pipe(Effect.flip))
      const second = yield* XmppClient.connect(config(s, server, "alice", { resource: "twice" }))
      const error = yield* Fiber.join(ended)
      assert.strictEqual(error.reason, "StreamError")
      assert.strictEqual(error.condition, "conflict")
      yield* second.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("invalid XML is refused before sending, the stream stays usable, and close is clean", () =>
    Effect.gen(function*() {
      const alice = yield* XmppClient.connect(config(s, server, "alice", { resource: "invalid" }))
      const invalid = yield* alice.send(message(alice.jid, "bad", "bell \u0007")).pipe(Effect.flip)
      assert.strictEqual(invalid.reason, "InvalidStanza")
      const notStanza = yield* alice.send(Element.make("message", { children: ["no namespace"] })).pipe(Effect.flip)
      assert.strictEqual(notStanza.reason, "InvalidStanza")
      // To itself: proves the stream still works after the refusals.
      yield* alice.send(message(alice.jid, "self-1", "to myself"))
      const [echo] = yield* receiveMessages(alice, 1)
      assert.strictEqual(echo === undefined ? undefined : Element.attribute(echo, "id"), "self-1")
      yield* alice.close
      // The server answered our close: the stanza stream ends cleanly, sending is refused.
      assert.deepStrictEqual(yield* Stream.runCollect(alice.stanzas), [])
      const afterClose = yield* alice.send(message(alice.jid, "late", "late")).pipe(Effect.flip)
      assert.strictEqual(afterClose.reason, "Closed")
    }).pipe(Effect.scoped, Effect.provide(ports)))
})

describe("NodeXmppClient", () => {
  it.live("layer gives a connected client in one line and closes it with the layer", () =>
    Effect.gen(function*() {
      const client = yield* XmppClient.XmppClient
      assert.strictEqual(Jid.format(client.jid), `alice@${s.domain}/layer`)
    }).pipe(Effect.provide(NodeXmppClient.layer(config(s, "prosody", "alice", { resource: "layer" })))))

  it.live("the XML console shows the whole PLAIN login without the password", () =>
    Effect.gen(function*() {
      const traffic: Array<string> = []
      const client = yield* XmppClient.connect(config(s, "prosody", "alice", { mechanisms: ["PLAIN"] }), {
        onTraffic: (direction, xml) => traffic.push(`${direction} ${xml}`)
      })
      yield* client.close
      const all = traffic.join("\n")
      const plainPayload = Buffer.from(`\u0000alice\u0000${s.accounts.alice}`).toString("base64")
      assert.notInclude(all, plainPayload)
      assert.notInclude(all, s.accounts.alice)
      assert.include(all, "out <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>…redacted…</auth>")
      assert.include(all, "<success")
      assert.include(all, "out </stream:stream>")
    }).pipe(Effect.scoped, Effect.provide(ports)))
})
