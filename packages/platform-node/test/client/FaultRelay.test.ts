/**
 * The fault relay the stream-management tests stand on, in front of the
 * real Prosody: a login passes through it unchanged, and each fault it
 * injects reaches the client as the fault it stands for.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Namespaces } from "@xmpp-core/protocol"
import { Effect, Schema, Stream } from "effect"
import { readFileSync } from "node:fs"
import { FaultRelay } from "@xmpp-core/platform-node/testing"
import { servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()

const relayed = (port: number, resource: string) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: `alice@${s.domain}`,
    password: s.accounts.alice,
    resource,
    ca: readFileSync(s.ca, "utf8"),
    transport: { _tag: "tcp", host: "127.0.0.1", port, directTls: true }
  })

const prosody = () =>
  FaultRelay.make({ host: "127.0.0.1", port: s.prosody.c2sDirectTls, servername: s.domain, caFile: s.ca })

const selfMessage = (to: string, body: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

describe("FaultRelay (scripted network faults before the real Prosody)", () => {
  it.live("passes a login and a message through, and sees the XML each way", () =>
    Effect.gen(function*() {
      const relay = yield* prosody()
      const client = yield* XmppClient.connect(relayed(relay.port, "relay-pass"))
      const to = `${client.jid.local}@${client.jid.domain}/${client.jid.resource}`
      yield* client.send(selfMessage(to, "through the relay"))
      const echoed = yield* client.stanzas.pipe(Stream.filter((e) => e.name === "message"), Stream.runHead)
      assert.strictEqual(echoed._tag, "Some")
      assert.include(relay.links[0]?.toServer ?? "", "through the relay")
      assert.include(relay.links[0]?.toClient ?? "", "<stream:features")
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("killAll drops the link: the session ends with ConnectionLost", () =>
    Effect.gen(function*() {
      const relay = yield* prosody()
      const client = yield* XmppClient.connect(relayed(relay.port, "relay-kill"))
      relay.killAll()
      const error = yield* client.stanzas.pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(error.reason, "ConnectionLost")
      assert.strictEqual(relay.openLinks(), 0)
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("killWhen kills at a chosen point: the client's message never reaches the server", () =>
    Effect.gen(function*() {
      const relay = yield* prosody()
      const client = yield* XmppClient.connect(relayed(relay.port, "relay-point"))
      relay.killWhen({ direction: "toServer", when: (text) => text.includes("killed on the way") })
      yield* client.send(selfMessage(`alice@${s.domain}`, "killed on the way")).pipe(Effect.ignore)
      const error = yield* client.stanzas.pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(error.reason, "ConnectionLost")
      assert.include(relay.links[0]?.toServer ?? "", "killed on the way")
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("refuse closes new connections: a login fails", () =>
    Effect.gen(function*() {
      const relay = yield* prosody()
      relay.refuse(true)
      const error = yield* XmppClient.connect(relayed(relay.port, "relay-refused")).pipe(Effect.flip)
      assert.include(["ConnectFailed", "ConnectionLost"], error.reason, error.message)
      assert.strictEqual(relay.links.length, 0)
    }).pipe(Effect.scoped, Effect.provide(ports)))
})
