import { assert, describe, it } from "@effect/vitest"
import { ConnectError, StreamTransport, type Transport, TransportError } from "@xmpp-core/client"
import { Element, Namespaces, XmlError, XmlStreamEvent } from "@xmpp-core/protocol"
import { Effect, Fiber, Option, Redacted } from "effect"
import { TestClock } from "effect/testing"
import * as ScriptedServer from "./ScriptedServer.js"

const message = (id: string, body: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: "bob@localhost", id },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

const baseOptions: StreamTransport.Options = { domain: "localhost", host: "127.0.0.1", port: 5222 }

/** A transport connected to a fresh scripted server. */
const setup = (options: Partial<StreamTransport.Options> = {}, server: ScriptedServer.Options = {}) =>
  Effect.gen(function*() {
    const scripted = yield* ScriptedServer.make(server)
    const transport = yield* StreamTransport.connect({ ...baseOptions, ...options }).pipe(Effect.provide(scripted.layer))
    return { transport, server: scripted.server }
  })

/** Receives the next `count` events. */
const receiveN = (transport: Transport.Transport, count: number) =>
  Effect.forEach(Array.from({ length: count }), () => transport.receive)

describe("StreamTransport (scripted server)", () => {
  it.effect("parses bytes split anywhere into stream events, in order", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      const bytes = new TextEncoder().encode(
        `${ScriptedServer.serverHeader()}<stream:features/><message from='a@localhost' id='1'><body>é</body></message>`
      )
      // Split inside the header, inside a tag and inside the two bytes of "é".
      const cuts = [5, 60, bytes.indexOf(0xc3) + 1, bytes.length]
      let start = 0
      for (const cut of cuts) {
        yield* server.push(bytes.slice(start, cut))
        start = cut
      }
      const [open, features, stanza] = yield* receiveN(transport, 3)
      assert.strictEqual(open?._tag, "StreamOpen")
      assert.strictEqual(features?._tag === "StreamElement" ? features.element.name : undefined, "features")
      assert.strictEqual(stanza?._tag === "StreamElement" ? Element.text(Element.child(stanza.element, "body") ?? stanza.element) : undefined, "é")
    }).pipe(Effect.scoped))

  it.effect("writes elements in call order, stanzas without a repeated jabber:client xmlns", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      yield* transport.sendStreamHeader("<stream:stream>")
      yield* transport.send(message("1", "a"))
      yield* transport.send(Element.make("starttls", { namespace: Namespaces.TLS }))
      yield* transport.send(message("2", "b"))
      assert.deepStrictEqual(server.written, [
        "<stream:stream>",
        "<message to='bob@localhost' id='1'><body>a</body></message>",
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        "<message to='bob@localhost' id='2'><body>b</body></message>"
      ])
    }).pipe(Effect.scoped))

  it.effect("bad XML from the server is a typed InvalidXml error, answered with the stream error; later writes fail", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      // Events of the chunk that holds the error are dropped with it, so the header comes first.
      yield* server.push(ScriptedServer.serverHeader())
      yield* server.push(`<!DOCTYPE x><message/>`)
      const open = yield* transport.receive
      assert.strictEqual(open._tag, "StreamOpen")
      const error = yield* Effect.flip(transport.receive)
      assert.strictEqual(error.reason, "InvalidXml")
      assert.instanceOf(error.cause, XmlError)
      // The server was told why (RFC 6120 §4.9.3.18), and nothing can follow.
      assert.strictEqual(
        server.written.join(""),
        "<stream:error><restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
      )
      const write = yield* Effect.flip(transport.send(message("1", "x")))
      assert.strictEqual(write.reason, "Closed")
    }).pipe(Effect.scoped))

  it.effect("a server header in another stream namespace is answered with invalid-namespace (RFC 6120 §4.9.3.10)", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      yield* server.push(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='urn:example:not-streams' from='localhost' id='s1' version='1.0'>"
      )
      const error = yield* Effect.flip(transport.receive)
      assert.strictEqual(error.reason, "InvalidXml")
      assert.strictEqual(
        server.written.join(""),
        "<stream:error><invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
      )
    }).pipe(Effect.scoped))

  it.effect("an element over the stanza limit is InvalidXml (TooLarge), not buffered without bound", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup({ limits: { maxStanzaBytes: 100 } })
      yield* server.push(ScriptedServer.serverHeader())
      yield* server.push(`<message><body>${"x".repeat(200)}</body></message>`)
      yield* transport.receive
      const error = yield* Effect.flip(transport.receive)
      assert.strictEqual(error.reason, "InvalidXml")
      assert.isTrue(error.cause instanceof XmlError && error.cause.reason === "TooLarge")
      assert.include(server.written[0] ?? "", "<policy-violation ")
    }).pipe(Effect.scoped))

  it.effect("the server's </stream:stream> is an event, answered with ours; then receive says Closed", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      yield* server.push(`${ScriptedServer.serverHeader()}<message id='last'/></stream:stream>`)
      const events = yield* receiveN(transport, 3)
      assert.deepStrictEqual(events.map((e) => e._tag), ["StreamOpen", "StreamElement", "StreamClose"])
      assert.deepStrictEqual(server.written, ["</stream:stream>"])
      yield* server.end
      const after = yield* Effect.flip(transport.receive)
      assert.strictEqual(after.reason, "Closed")
      const write = yield* Effect.flip(transport.send(message("1", "late")))
      assert.strictEqual(write.reason, "Closed")
    }).pipe(Effect.scoped))

  it.effect("EOF without a stream close is ConnectionLost, after the events already received", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      yield* server.push(`${ScriptedServer.serverHeader()}<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`)
      yield* server.end
      const events = yield* receiveN(transport, 2)
      assert.deepStrictEqual(events.map((e) => e._tag), ["StreamOpen", "StreamElement"])
      const error = yield* Effect.flip(transport.receive)
      assert.strictEqual(error.reason, "ConnectionLost")
    }).pipe(Effect.scoped))

  it.effect("a failing write is a typed WriteFailed error", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      server.failWrites = true
      const error = yield* Effect.flip(transport.send(message("1", "x")))
      assert.strictEqual(error.reason, "WriteFailed")
    }).pipe(Effect.scoped))

  it.effect("a write stuck on a dead connection fails when the connection is lost", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      server.hangWrites = true
      const sending = yield* Effect.forkChild(Effect.flip(transport.send(message("1", "x"))))
      yield* Effect.yieldNow
      assert.isUndefined(sending.pollUnsafe())
      yield* server.reset
      const error: TransportError = yield* Fiber.join(sending)
      assert.strictEqual(error.reason, "WriteFailed")
      assert.isTrue(error.cause instanceof TransportError && error.cause.reason === "ConnectionLost")
    }).pipe(Effect.scoped))

  it.effect("close writes the last elements, then the footer, and succeeds once the server closes", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup({}, {
        respond: (written) => (written === "</stream:stream>" ? "</stream:stream>" : undefined)
      })
      yield* server.push(ScriptedServer.serverHeader())
      yield* transport.receive
      yield* transport.close([message("bye", "last words")])
      assert.deepStrictEqual(server.written, [
        "<message to='bob@localhost' id='bye'><body>last words</body></message>",
        "</stream:stream>"
      ])
      // A second close is a no-op; sending after close is refused.
      yield* transport.close()
      assert.strictEqual((yield* Effect.flip(transport.send(message("2", "x")))).reason, "Closed")
      assert.strictEqual((yield* transport.receive)._tag, "StreamClose")
    }).pipe(Effect.scoped))

  it.effect("nothing can slip in after the footer while its write is pending", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      server.hangWrites = true
      const closing = yield* Effect.forkChild(Effect.flip(transport.close()))
      yield* Effect.yieldNow
      assert.strictEqual((yield* Effect.flip(transport.send(message("1", "late")))).reason, "Closed")
      // A second close does not write a second footer.
      server.hangWrites = false
      yield* transport.close()
      assert.deepStrictEqual(server.written, [])
      yield* server.reset
      assert.strictEqual((yield* Fiber.join(closing)).reason, "WriteFailed")
    }).pipe(Effect.scoped))

  it.effect("reading pauses while the receiver lags (backpressure) and resumes as it catches up", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup({ eventBuffer: 4 })
      yield* server.push(ScriptedServer.serverHeader())
      for (let i = 0; i < 20; i++) yield* server.push(`<message id='${i}'/>`)
      yield* Effect.yieldNow
      // Four events wait; the rest stays unread in the socket.
      assert.isAtLeast(yield* server.unread, 14)
      const ids: Array<string | undefined> = []
      for (let i = 0; i < 21; i++) {
        const event = yield* transport.receive
        if (event._tag === "StreamElement") ids.push(Element.attribute(event.element, "id"))
      }
      assert.deepStrictEqual(ids, Array.from({ length: 20 }, (_, i) => String(i)))
      assert.strictEqual(yield* server.unread, 0)
    }).pipe(Effect.scoped))

  it.effect("close is confirmed even when nobody drained the stanzas in front of the server's close", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup({ eventBuffer: 4 }, {
        respond: (written) =>
          written.endsWith("</stream:stream>")
            ? Array.from({ length: 10 }, (_, i) => `<message id='late-${i}'/>`).join("") + "</stream:stream>"
            : undefined
      })
      yield* server.push(ScriptedServer.serverHeader())
      for (let i = 0; i < 10; i++) yield* server.push(`<message id='${i}'/>`)
      yield* transport.close()
      // Still there for a reader, in order, ending with the close.
      const tags: Array<string> = []
      while (true) {
        const event = yield* transport.receive
        tags.push(event._tag === "StreamElement" ? Element.attribute(event.element, "id") ?? "" : event._tag)
        if (event._tag === "StreamClose") break
      }
      assert.strictEqual(tags.length, 22)
      assert.deepStrictEqual(tags.slice(-2), ["late-9", "StreamClose"])
    }).pipe(Effect.scoped))

  it.effect("close without the server's answer fails with CloseUnconfirmed after the close timeout", () =>
    Effect.gen(function*() {
      const { transport } = yield* setup({ closeTimeout: "3 seconds" })
      const closing = yield* Effect.forkChild(Effect.flip(transport.close()))
      yield* TestClock.adjust("2 seconds")
      assert.isUndefined(closing.pollUnsafe())
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(closing)).reason, "CloseUnconfirmed")
      // A reader does not wait forever for a server that never closed.
      assert.strictEqual((yield* Effect.flip(transport.receive)).reason, "Closed")
    }).pipe(Effect.scoped))

  it.effect("close when the server drops the connection instead of closing the stream is CloseUnconfirmed at once", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup({}, {
        respond: (written) => (written === "</stream:stream>" ? "" : undefined)
      })
      const closing = yield* Effect.forkChild(Effect.flip(transport.close()))
      yield* Effect.yieldNow
      yield* server.end
      assert.strictEqual((yield* Fiber.join(closing)).reason, "CloseUnconfirmed")
    }).pipe(Effect.scoped))

  it.effect("a receive still waiting when the transport's scope ends fails with Closed", () =>
    Effect.gen(function*() {
      const { transport } = yield* Effect.scoped(setup())
      assert.strictEqual((yield* Effect.flip(transport.receive)).reason, "Closed")
    }))

  it.effect("STARTTLS upgrades with the XMPP domain as the TLS name; restart takes a new parser", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup({ host: "xmpp.example.net", ca: "PEM" })
      assert.isFalse(transport.secure)
      yield* server.push(`${ScriptedServer.serverHeader("1")}<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
      yield* receiveN(transport, 2)
      const channel = yield* transport.startTls
      assert.strictEqual(channel.tlsVersion, "TLSv1.3")
      assert.deepStrictEqual(server.upgrades, [
        { servername: "localhost", ca: "PEM", maxVersion: undefined, clientCertificate: undefined }
      ])
      yield* transport.restart
      // A second document on the same connection: only a new parser accepts a second header.
      yield* server.push(`${ScriptedServer.serverHeader("2")}<stream:features/>`)
      const events = yield* receiveN(transport, 2)
      assert.deepStrictEqual(events.map((e) => e._tag), ["StreamOpen", "StreamElement"])
      const header = events[0]
      assert.strictEqual(header?._tag === "StreamOpen" ? Element.attribute(header.header, "id") : undefined, "2")
      assert.strictEqual((yield* Effect.flip(transport.startTls)).reason, "Unsupported")
    }).pipe(Effect.scoped))

  it.effect("direct TLS: the route asks for TLS to the domain with ALPN xmpp-client, and the channel is reported", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup({ directTls: true, port: undefined })
      assert.isTrue(transport.secure)
      assert.isTrue(Option.isSome(transport.channel))
      const [route] = server.dialed
      assert.strictEqual(route?.port, 5223)
      assert.deepStrictEqual(route?.tls, { servername: "localhost", ca: undefined, alpnProtocols: ["xmpp-client"] })
    }).pipe(Effect.scoped))

  it.effect("a client certificate goes into the direct TLS route and into the STARTTLS upgrade", () =>
    Effect.gen(function*() {
      const clientCertificate = { certificate: "CERT", key: Redacted.make("KEY") }
      const direct = yield* setup({ directTls: true, port: undefined, clientCertificate })
      assert.strictEqual(direct.server.dialed[0]?.tls?.clientCertificate, clientCertificate)
      const starttls = yield* setup({ clientCertificate })
      yield* starttls.server.push(`${ScriptedServer.serverHeader("1")}<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
      yield* receiveN(starttls.transport, 2)
      yield* starttls.transport.startTls
      assert.strictEqual(starttls.server.upgrades[0]?.clientCertificate, clientCertificate)
    }).pipe(Effect.scoped))

  it.effect("SRV endpoints are tried in order until one connects; the refused ones are closed", () =>
    Effect.gen(function*() {
      const { server } = yield* ScriptedServer.make({
        endpoints: [
          { host: "a.example", port: 5223, directTls: true },
          { host: "b.example", port: 5222, directTls: false },
          { host: "c.example", port: 5222, directTls: false }
        ],
        refuse: (route) => route.host === "a.example"
      }).pipe(Effect.flatMap(({ layer, server }) =>
        Effect.as(StreamTransport.connect({ domain: "example.test" }).pipe(Effect.provide(layer)), { server })
      ))
      assert.deepStrictEqual(server.dialed.map((r) => `${r.host}:${r.port}`), ["a.example:5223", "b.example:5222"])
      // The certificate of a direct TLS endpoint is checked against the XMPP domain, not the SRV target.
      assert.strictEqual(server.dialed[0]?.tls?.servername, "example.test")
    }).pipe(Effect.scoped))

  it.effect("every endpoint refused: ConnectFailed with the last cause; none at all: NoEndpoint", () =>
    Effect.gen(function*() {
      const refusedAll = yield* ScriptedServer.make({
        endpoints: [{ host: "a.example", port: 5222, directTls: false }, { host: "b.example", port: 5222, directTls: false }],
        refuse: () => true
      })
      const failed = yield* Effect.flip(StreamTransport.connect({ domain: "example.test" }).pipe(Effect.provide(refusedAll.layer)))
      assert.strictEqual(failed.reason, "ConnectFailed")
      assert.include(failed.message, "b.example:5222")
      assert.isTrue(failed.cause instanceof ConnectError && failed.cause.reason === "Refused")
      const none = yield* ScriptedServer.make({ endpoints: [] })
      const empty = yield* Effect.flip(StreamTransport.connect({ domain: "example.test" }).pipe(Effect.provide(none.layer)))
      assert.strictEqual(empty.reason, "NoEndpoint")
      const onlyStartTls = yield* ScriptedServer.make({ endpoints: [{ host: "a.example", port: 5222, directTls: false }] })
      const filtered = yield* Effect.flip(
        StreamTransport.connect({ domain: "example.test", directTls: true }).pipe(Effect.provide(onlyStartTls.layer))
      )
      assert.strictEqual(filtered.reason, "NoEndpoint")
    }).pipe(Effect.scoped))

  it.effect("the traffic hook sees raw input and output, with SASL payloads redacted", () =>
    Effect.gen(function*() {
      const traffic: Array<string> = []
      const { server, transport } = yield* setup({ onTraffic: (direction, xml) => traffic.push(`${direction} ${xml}`) })
      const secret = "AGFsaWNlAGFsaWNlcGFzcw=="
      yield* transport.send(Element.make("auth", { namespace: Namespaces.SASL, attributes: { mechanism: "PLAIN" }, children: [secret] }))
      yield* transport.send(Element.make("response", { namespace: Namespaces.SASL, children: ["Yz1iaXdzLHI9cHJvb2Y="] }))
      yield* server.push(ScriptedServer.serverHeader())
      yield* transport.receive
      assert.deepStrictEqual(traffic, [
        "out <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>…redacted…</auth>",
        "out <response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>…redacted…</response>",
        `in ${ScriptedServer.serverHeader()}`
      ])
      // The wire still carries the real payload.
      assert.include(server.written[0] ?? "", secret)
    }).pipe(Effect.scoped))

  it.effect("receive is interruptible without losing an event", () =>
    Effect.gen(function*() {
      const { server, transport } = yield* setup()
      const waiting = yield* Effect.forkChild(transport.receive)
      yield* Effect.yieldNow
      yield* Fiber.interrupt(waiting)
      yield* server.push(ScriptedServer.serverHeader())
      const event = yield* transport.receive
      assert.strictEqual(event._tag, XmlStreamEvent.streamOpen(Element.make("x"))._tag)
    }).pipe(Effect.scoped))
})
