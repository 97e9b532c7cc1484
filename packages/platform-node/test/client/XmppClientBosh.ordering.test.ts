/**
 * Requests reach ejabberd 23.01 in rid order because of how they are
 * written, with no timer: ejabberd parks a request whose rid is ahead of
 * the one it expects and takes it up only when it answers the one before,
 * so a request overtaken on the way stalls the session until `wait` runs
 * out (seen as 7 of 30 logins stalled before the write gate and
 * demand-driven polls). Here: 200 logins, 8 at a time, and 1,000
 * sequential round trips through the session, each within a deadline far
 * shorter than `wait` (a stall waits for `wait`, 60 s).
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Duration, Effect, Queue, Stream } from "effect"
import { boshConfig, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()
/** Far below `wait` (60 s), far above a login or a round trip on loopback. */
const STALL = Duration.seconds(10)

const message = (to: Jid.Jid, id: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: Jid.format(to), id, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [id] })]
  })

describe("XmppClient over BOSH on ejabberd: requests in rid order without timers", () => {
  it.live("200 logins (8 at a time), none stalled", () =>
    Effect.gen(function*() {
      const stalled: Array<number> = []
      yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => i),
        (i) =>
          Effect.gen(function*() {
            const client = yield* XmppClient.connect(boshConfig(s, "ejabberd", "alice", "https", { resource: `order-${i}` }))
            yield* client.close
          }).pipe(
            Effect.scoped,
            Effect.timeoutOption(STALL),
            Effect.map((done) => {
              if (done._tag === "None") stalled.push(i)
            })
          ),
        { concurrency: 8, discard: true }
      )
      assert.deepStrictEqual(stalled, [])
    }).pipe(Effect.provide(ports)), 120_000)

  it.live("1,000 sequential round trips to the session's own full JID, none stalled, in order", () =>
    Effect.gen(function*() {
      const client = yield* XmppClient.connect(boshConfig(s, "ejabberd", "alice", "https", { resource: "order-rt" }))
      const inbox = yield* Queue.unbounded<string>()
      yield* Effect.forkScoped(
        client.stanzas.pipe(
          Stream.filter((stanza) => stanza.name === "message"),
          Stream.runForEach((stanza) => Queue.offer(inbox, Element.attribute(stanza, "id") ?? ""))
        )
      )
      const seen: Array<string> = []
      for (let i = 0; i < 1_000; i++) {
        yield* client.send(message(client.jid, `rt-${i}`))
        const id = yield* Queue.take(inbox).pipe(Effect.timeoutOption(STALL))
        if (id._tag === "None") break
        seen.push(id.value)
      }
      assert.strictEqual(seen.length, 1_000, `stalled after ${seen.length} round trips`)
      assert.deepStrictEqual(seen, Array.from({ length: 1_000 }, (_, i) => `rt-${i}`))
      yield* client.close
    }).pipe(Effect.scoped, Effect.provide(ports)), 120_000)
})
