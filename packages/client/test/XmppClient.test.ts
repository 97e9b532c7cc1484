import { assert, describe, it } from "@effect/vitest"
import { BoshHttpClients, SaslCrypto, XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { SecureRandom } from "effect/crypto"
import { Element, Jid, Namespaces, XmlError } from "@xmpp-core/protocol"
import { Effect, Fiber, Layer, Result, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as ScriptedServer from "./transport/ScriptedServer.js"

const SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
const BIND = "urn:ietf:params:xml:ns:xmpp-bind"

/**
 * A server that accepts a login with the mechanism it offers (PLAIN unless
 * told) over direct TLS, or refuses it, binds `bound`, and echoes our close.
 */
const loginScript = (
  options: { readonly refuse?: boolean; readonly offer?: string; readonly bound?: string; readonly pong?: boolean } = {}
) => {
  let authenticated = false
  return (written: string): string | undefined => {
    if (written.startsWith("<?xml")) {
      return authenticated
        ? `${ScriptedServer.serverHeader("2")}<stream:features><bind xmlns='${BIND}'/></stream:features>`
        : `${ScriptedServer.serverHeader("1")}<stream:features><mechanisms xmlns='${SASL}'><mechanism>${
          options.offer ?? "PLAIN"
        }</mechanism></mechanisms></stream:features>`
    }
    if (written.startsWith("<auth")) {
      if (options.refuse === true) return `<failure xmlns='${SASL}'><not-authorized/></failure>`
      authenticated = true
      return `<success xmlns='${SASL}'/>`
    }
    if (written.startsWith("<iq") && written.includes(BIND)) {
      return `<iq type='result' id='bind_1'><bind xmlns='${BIND}'><jid>${options.bound ?? "alice@localhost/desk"}</jid></bind></iq>`
    }
    if (written === "</stream:stream>") return "</stream:stream>"
    const ping = /^<iq[^>]* id='([^']+)'[^>]*><ping xmlns='urn:xmpp:ping'/.exec(written)
    if (ping !== null && options.pong === true) return `<iq type='result' id='${ping[1]}' from='localhost'/>`
    return undefined
  }
}

const config = (overrides: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: "alice@localhost",
    password: "alicepass",
    resource: "desk",
    mechanisms: ["PLAIN"],
    transport: { _tag: "tcp", host: "127.0.0.1", directTls: true },
    ...overrides
  })

const connected = (
  options: Parameters<typeof loginScript>[0] = {},
  configuration: XmppClientConfig.XmppClientConfig = config()
) =>
  Effect.gen(function*() {
    const scripted = yield* ScriptedServer.make({ respond: loginScript(options) })
    const client = yield* XmppClient.connect(configuration).pipe(
      Effect.provide(Layer.mergeAll(scripted.layer, SaslCrypto.layerWebCrypto, BoshHttpClients.layerFetch, SecureRandom.layerWebCrypto))
    )
    return { client, server: scripted.server }
  })

const chat = (id: string, body: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: "bob@localhost", id },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

describe("XmppClient (scripted server)", () => {
  it.effect("logs in, binds, and hands out stanzas until a stream error, which is typed", () =>
    Effect.gen(function*() {
      const { client, server } = yield* connected()
      assert.deepStrictEqual(client.jid, { local: "alice", domain: "localhost", resource: "desk" })
      assert.strictEqual(client.mechanism, "PLAIN")
      yield* server.push("<message from='bob@localhost/x' id='m1'><body>hi</body></message><presence from='bob@localhost/x'/>")
      yield* server.push(
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
      )
      const received: Array<string> = []
      const error = yield* client.stanzas.pipe(
        Stream.runForEach((stanza) => Effect.sync(() => received.push(stanza.name))),
        Effect.flip
      )
      assert.deepStrictEqual(received, ["message", "presence"])
      assert.strictEqual(error.reason, "StreamError")
      assert.strictEqual(error.condition, "conflict")
    }).pipe(Effect.scoped))

  it.effect("the JID the server binds is the one reported, not the one asked for", () =>
    Effect.gen(function*() {
      const { client } = yield* connected({ bound: "alice@localhost/chosen-by-server" })
      assert.deepStrictEqual(client.jid, { local: "alice", domain: "localhost", resource: "chosen-by-server" })
    }).pipe(Effect.scoped))

  it.effect("ANONYMOUS: a domain and no password log in, and the JID the server made up is reported", () =>
    Effect.gen(function*() {
      const anonymous = Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
        jid: "localhost",
        credentials: { _tag: "Anonymous" },
        transport: { _tag: "tcp", host: "127.0.0.1", directTls: true }
      })
      const { client, server } = yield* connected({ offer: "ANONYMOUS", bound: "4f2a9c@localhost/r1" }, anonymous)
      assert.strictEqual(client.mechanism, "ANONYMOUS")
      assert.strictEqual(Jid.format(client.jid), "4f2a9c@localhost/r1")
      assert.include(server.written, `<auth xmlns='${SASL}' mechanism='ANONYMOUS'>=</auth>`)
    }).pipe(Effect.scoped))

  it.effect("a top-level element that is not a stanza ends the stream with UnexpectedElement", () =>
    Effect.gen(function*() {
      const { client, server } = yield* connected()
      yield* server.push("<r xmlns='urn:xmpp:sm:3'/>")
      const error = yield* Effect.flip(Stream.runDrain(client.stanzas))
      assert.strictEqual(error.reason, "UnexpectedElement")
    }).pipe(Effect.scoped))

  it.effect("the server closing the stream ends the stanza stream cleanly", () =>
    Effect.gen(function*() {
      const { client, server } = yield* connected()
      yield* server.push("<message id='last'/></stream:stream>")
      const stanzas = yield* Stream.runCollect(client.stanzas)
      assert.deepStrictEqual(stanzas.map((s) => Element.attribute(s, "id")), ["last"])
    }).pipe(Effect.scoped))

  it.effect("send refuses invalid XML and non-stanzas with InvalidStanza and writes nothing", () =>
    Effect.gen(function*() {
      const { client, server } = yield* connected()
      const before = server.written.length
      const invalid = yield* Effect.flip(client.send(chat("1", "nul \u0000")))
      assert.strictEqual(invalid.reason, "InvalidStanza")
      assert.instanceOf(invalid.cause, XmlError)
      const noNamespace = yield* Effect.flip(client.send(Element.make("message")))
      assert.strictEqual(noNamespace.reason, "InvalidStanza")
      const notAStanza = yield* Effect.flip(client.send(Element.make("auth", { namespace: Namespaces.SASL })))
      assert.strictEqual(notAStanza.reason, "InvalidStanza")
      assert.strictEqual(server.written.length, before)
      yield* client.send(chat("2", "fine"))
      assert.strictEqual(server.written.at(-1), "<message to='bob@localhost' id='2'><body>fine</body></message>")
    }).pipe(Effect.scoped))

  it.effect("close delivers what was sent before the footer; sending afterwards is Closed", () =>
    Effect.gen(function*() {
      const { client, server } = yield* connected()
      yield* client.send(chat("a", "1"))
      yield* client.close
      assert.deepStrictEqual(server.written.slice(-2), [
        "<message to='bob@localhost' id='a'><body>1</body></message>",
        "</stream:stream>"
      ])
      assert.strictEqual((yield* Effect.flip(client.send(chat("b", "2")))).reason, "Closed")
    }).pipe(Effect.scoped))

  it.effect("releasing the scope closes the stream cleanly", () =>
    Effect.gen(function*() {
      const { server } = yield* Effect.scoped(connected())
      assert.strictEqual(server.written.at(-1), "</stream:stream>")
    }))

  it.effect("a refused login is AuthenticationFailed with the SASL condition, and the stream is closed", () =>
    Effect.gen(function*() {
      const scripted = yield* ScriptedServer.make({ respond: loginScript({ refuse: true }) })
      const error = yield* XmppClient.connect(config()).pipe(
        Effect.provide(Layer.mergeAll(scripted.layer, SaslCrypto.layerWebCrypto, BoshHttpClients.layerFetch, SecureRandom.layerWebCrypto)),
        Effect.flip
      )
      assert.strictEqual(error.reason, "AuthenticationFailed")
      assert.strictEqual(error.condition, "not-authorized")
      assert.strictEqual(scripted.server.written.at(-1), "</stream:stream>")
    }).pipe(Effect.scoped))

  it.effect("BOSH with an HTTP mode fetch cannot do is TransportUnavailable, before any connection", () =>
    Effect.gen(function*() {
      const scripted = yield* ScriptedServer.make()
      const error = yield* XmppClient.connect(config({ transport: { _tag: "bosh", url: "https://localhost/http-bind", mode: "close" } })).pipe(
        Effect.provide(Layer.mergeAll(scripted.layer, SaslCrypto.layerWebCrypto, BoshHttpClients.layerFetch, SecureRandom.layerWebCrypto)),
        Effect.flip
      )
      assert.strictEqual(error.reason, "TransportUnavailable")
      assert.match(error.message, /fetch cannot do mode "close"/)
      assert.deepStrictEqual(scripted.server.dialed, [])
    }).pipe(Effect.scoped))

  it("the configuration keeps the password redacted and rejects a JID without an account", () => {
    const decoded = config({ password: "s3cret-pass" })
    assert.notInclude(String(decoded.password), "s3cret-pass")
    assert.notInclude(JSON.stringify(decoded), "s3cret-pass")
    assert.isTrue(Result.isFailure(XmppClientConfig.decode({ jid: "localhost", password: "x" })))
    assert.isTrue(Result.isFailure(XmppClientConfig.decode({ jid: "a@b@c", password: "x" })))
    assert.isTrue(Result.isFailure(XmppClientConfig.decode({ jid: "a@localhost", password: "x", transport: { _tag: "tcp", port: 70000 } })))
    assert.isTrue(Result.isSuccess(XmppClientConfig.decode({ jid: "a@localhost", password: "x" })))
    assert.strictEqual(Jid.format(Result.getOrThrow(Jid.parse(decoded.jid))), "alice@localhost")
  })

  it("credentials: Anonymous takes a domain only, a password login needs a password, a key stays redacted", () => {
    const failure = (input: Record<string, unknown>) => {
      const decoded = XmppClientConfig.decode(input)
      return Result.isFailure(decoded) ? decoded.failure.message : "decoded"
    }
    assert.strictEqual(failure({ jid: "localhost", credentials: { _tag: "Anonymous" } }), "decoded")
    assert.match(failure({ jid: "a@localhost", credentials: { _tag: "Anonymous" } }), /domain only/)
    assert.match(failure({ jid: "a@localhost" }), /a password is required/)
    const certificate = { _tag: "Certificate", certificate: "-----BEGIN CERTIFICATE-----\nMIIB", key: "secret-key-material" }
    assert.strictEqual(failure({ jid: "localhost", credentials: certificate, mechanisms: ["EXTERNAL"] }), "decoded")
    const decoded = Result.getOrThrow(XmppClientConfig.decode({ jid: "a@localhost", credentials: certificate }))
    assert.notInclude(JSON.stringify(decoded), "secret-key-material")
    assert.notInclude(String(decoded.credentials?._tag === "Certificate" ? decoded.credentials.key : ""), "secret-key-material")
  })

  it("mechanisms the credentials cannot use are refused before connecting, naming what they need", () => {
    const decoded = XmppClientConfig.decode({ jid: "a@localhost", password: "x", mechanisms: ["SCRAM-SHA-256", "EXTERNAL"] })
    assert.isTrue(Result.isFailure(decoded))
    if (Result.isFailure(decoded)) {
      assert.match(decoded.failure.message, /EXTERNAL needs a client certificate \(setting credentials\.Certificate\)/)
      assert.match(decoded.failure.message, /\["mechanisms"\]/)
    }
    const anonymous = XmppClientConfig.decode({ jid: "localhost", credentials: { _tag: "Anonymous" }, mechanisms: ["PLAIN"] })
    assert.isTrue(Result.isFailure(anonymous) && /PLAIN needs a JID with a localpart and a password/.test(anonymous.failure.message))
  })

  describe("iq with correlation", () => {
    const ping = (id: string, to?: string) =>
      Element.make("iq", {
        namespace: Namespaces.JABBER_CLIENT,
        attributes: { type: "get", id, ...(to === undefined ? {} : { to }) },
        children: [Element.make("ping", { namespace: "urn:xmpp:ping" })]
      })
    // Waits (on what the client wrote, not on time) until the request is out.
    const written = (server: { readonly written: ReadonlyArray<string> }, text: string) =>
      Effect.gen(function*() {
        while (!server.written.some((w) => w.includes(text))) yield* Effect.yieldNow
      })

    it.effect("the result with the request's id (and from whom it was asked) answers it, and is not in stanzas", () =>
      Effect.gen(function*() {
        const { client, server } = yield* connected()
        const asked = yield* Effect.forkChild(client.iq(ping("p1", "localhost")))
        yield* written(server, "id='p1'")
        // Another's answer with the same id is not ours: it stays an ordinary stanza.
        yield* server.push("<iq type='result' id='p1' from='mallory@evil.example'/><iq type='result' id='p1' from='localhost'/>")
        const answer = yield* Fiber.join(asked)
        assert.strictEqual(Element.attribute(answer, "from"), "localhost")
        const rest = yield* client.stanzas.pipe(Stream.take(1), Stream.runCollect)
        assert.strictEqual(Element.attribute(rest[0] ?? answer, "from"), "mallory@evil.example")
      }).pipe(Effect.scoped))

    it.effect("an error answer fails with IqError and the stanza error condition; an id is added when absent", () =>
      Effect.gen(function*() {
        const { client, server } = yield* connected()
        const request = Element.make("iq", { namespace: Namespaces.JABBER_CLIENT, attributes: { type: "set" } })
        const asked = yield* Effect.forkChild(Effect.flip(client.iq(request)))
        yield* written(server, "id='iq-")
        const sent = server.written.findLast((w) => w.startsWith("<iq") && w.includes("id='iq-")) ?? ""
        const id = /\sid='([^']+)'/.exec(sent)?.[1] ?? ""
        assert.notStrictEqual(id, "")
        yield* server.push(
          `<iq type='error' id='${id}'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`
        )
        const error = yield* Fiber.join(asked)
        assert.strictEqual(error.reason, "IqError")
        assert.strictEqual(error.condition, "feature-not-implemented")
      }).pipe(Effect.scoped))

    it.effect("no answer within the timeout fails with Timeout", () =>
      Effect.gen(function*() {
        const { client, server } = yield* connected()
        const asked = yield* Effect.forkChild(Effect.flip(client.iq(ping("p2"), { timeout: "5 seconds" })))
        yield* written(server, "id='p2'")
        yield* TestClock.adjust("4999 millis")
        assert.isUndefined(asked.pollUnsafe())
        yield* TestClock.adjust("1 millis")
        const error = yield* Fiber.join(asked)
        assert.strictEqual(error.reason, "Timeout")
      }).pipe(Effect.scoped))
  })

  describe("XEP-0199 pings (opt-in)", () => {
    it.effect("a ping unanswered within its timeout ends the session: the dead link is found in bounded time", () =>
      Effect.gen(function*() {
        const { client, server } = yield* connected({}, config({ ping: { interval: 1_000, timeout: 500 } }))
        const ended = yield* Effect.forkChild(Effect.flip(Stream.runDrain(client.stanzas)))
        yield* TestClock.adjust("1000 millis")
        yield* Effect.yieldNow
        assert.isTrue(server.written.some((w) => w.includes("urn:xmpp:ping")), "a ping went out after the interval")
        yield* TestClock.adjust("499 millis")
        assert.isUndefined(ended.pollUnsafe())
        yield* TestClock.adjust("1 millis")
        const error = yield* Fiber.join(ended)
        assert.strictEqual(error.reason, "ConnectionLost")
        assert.include(error.message, "no answer to a ping within 500 ms")
      }).pipe(Effect.scoped))

    it.effect("answered pings keep the session; they never show in stanzas", () =>
      Effect.gen(function*() {
        const { client, server } = yield* connected({ pong: true }, config({ ping: { interval: 1_000, timeout: 500 } }))
        for (let i = 0; i < 3; i++) {
          yield* TestClock.adjust("1000 millis")
          for (let k = 0; k < 20; k++) yield* Effect.yieldNow
        }
        assert.strictEqual(server.written.filter((w) => w.includes("urn:xmpp:ping")).length, 3)
        yield* server.push("<message id='still-here'/>")
        const next = yield* client.stanzas.pipe(Stream.take(1), Stream.runCollect)
        assert.strictEqual(Element.attribute(next[0] ?? Element.make("none"), "id"), "still-here")
      }).pipe(Effect.scoped))
  })
})
