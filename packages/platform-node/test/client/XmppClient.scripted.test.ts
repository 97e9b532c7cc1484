/**
 * XmppClient on real Node sockets against a scripted direct-TLS peer (the
 * test fixtures' CA and localhost certificate): failures the real servers
 * cannot be made to produce on demand, a connection dropped after bind and a
 * peer that stops reading, end in typed errors instead of hangs.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Namespaces } from "@xmpp-core/protocol"
import { Deferred, Effect, Fiber, Schema, Stream } from "effect"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import * as Tls from "node:tls"
import { fileURLToPath } from "node:url"

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "net", "fixtures")
const ca = readFileSync(join(fixtures, "ca.pem"), "utf8")
const key = readFileSync(join(fixtures, "localhost.key"))
const cert = readFileSync(join(fixtures, "localhost.pem"))

const SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
const BIND = "urn:ietf:params:xml:ns:xmpp-bind"
const header = (id: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='${id}' version='1.0'>`

/** A direct-TLS peer that logs any PLAIN login in and binds, then hands the socket to `afterBind`. */
const scriptedPeer = (afterBind: (socket: Tls.TLSSocket) => void) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Tls.Server; readonly port: number; readonly sockets: Set<Tls.TLSSocket> }>((resume) => {
      const sockets = new Set<Tls.TLSSocket>()
      const server = Tls.createServer({ key, cert }, (socket) => {
        sockets.add(socket)
        socket.on("error", () => {})
        let buffered = ""
        let step = 0
        const onData = (data: Buffer) => {
          buffered += data.toString("utf8")
          if (step === 0 && buffered.includes("<stream:stream")) {
            step = 1
            buffered = ""
            socket.write(`${header("1")}<stream:features><mechanisms xmlns='${SASL}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`)
          } else if (step === 1 && buffered.includes("</auth>")) {
            step = 2
            buffered = ""
            socket.write(`<success xmlns='${SASL}'/>`)
          } else if (step === 2 && buffered.includes("<stream:stream")) {
            step = 3
            buffered = ""
            socket.write(`${header("2")}<stream:features><bind xmlns='${BIND}'/></stream:features>`)
          } else if (step === 3 && buffered.includes("</iq>")) {
            step = 4
            socket.off("data", onData)
            socket.write(
              `<iq type='result' id='bind_1'><bind xmlns='${BIND}'><jid>alice@localhost/scripted</jid></bind></iq>`,
              () => afterBind(socket)
            )
          }
        }
        socket.on("data", onData)
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

const config = (port: number) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: "alice@localhost",
    password: "secret",
    mechanisms: ["PLAIN"],
    ca,
    transport: { _tag: "tcp", host: "127.0.0.1", port, directTls: true }
  })

const bigMessage = (i: number) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: "bob@localhost", id: String(i) },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: ["x".repeat(64 * 1024)] })]
  })

describe("XmppClient against a scripted peer (real sockets)", () => {
  it.live("a connection dropped after bind ends the stanzas with ConnectionLost and refuses sends", () =>
    Effect.gen(function*() {
      const port = yield* scriptedPeer((socket) => socket.destroy())
      const client = yield* XmppClient.connect(config(port))
      assert.strictEqual(client.jid.resource, "scripted")
      const error = yield* Effect.flip(Stream.runDrain(client.stanzas))
      assert.strictEqual(error.reason, "ConnectionLost")
      // After the end, every call answers with the error that ended the session.
      const send = yield* Effect.flip(client.send(bigMessage(0)))
      assert.strictEqual(send.reason, "ConnectionLost")
      assert.strictEqual(send.message, error.message)
    }).pipe(Effect.scoped, Effect.provide(NodeXmppClient.layerPorts())))

  it.live("sends into a peer that stopped reading and then vanished fail typed instead of hanging", () =>
    Effect.gen(function*() {
      const peer = yield* Deferred.make<Tls.TLSSocket>()
      // The peer reads 2 MB of the client's stanzas, then stops reading: the
      // kernel buffers fill and the client's writes wait for a drain.
      const port = yield* scriptedPeer((socket) => {
        let received = 0
        socket.on("data", (data: Buffer) => {
          received += data.length
          if (received >= 2 * 1024 * 1024) {
            socket.pause()
            Deferred.doneUnsafe(peer, Effect.succeed(socket))
          }
        })
      })
      const client = yield* XmppClient.connect(config(port))
      // 25 MB: far more than the peer reads plus every buffer on the way.
      const sending = yield* Effect.forkChild(
        Effect.flip(Effect.forEach(Array.from({ length: 400 }, (_, i) => i), (i) => client.send(bigMessage(i)), { discard: true }))
      )
      const socket = yield* Deferred.await(peer)
      socket.destroy()
      const error = yield* Fiber.join(sending)
      assert.strictEqual(error.reason, "ConnectionLost")
      assert.strictEqual(error.condition, "WriteFailed")
    }).pipe(Effect.scoped, Effect.provide(NodeXmppClient.layerPorts())))
})
