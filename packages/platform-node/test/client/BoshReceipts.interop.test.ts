/**
 * BOSH's own receipts (XEP-0124 §9) on the real connection managers, without
 * stream management: `sendAcknowledged` resolves once the manager answered
 * the request that carried the stanza (never after a held `wait`), and a
 * BOSH session that dies hands back, in its error, every stanza the server
 * may not have: together with what bob got, everything alice sent.
 *
 * The session is cut by the loopback fault relay in front of the server's
 * HTTPS port (it kills the connections and refuses new ones), as a network
 * that stops carrying HTTP would.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { FaultRelay } from "@xmpp-core/platform-node/testing"
import { Jid } from "@xmpp-core/protocol"
import { Effect, Fiber, Stream } from "effect"
import { bodyOf, chat, numbered } from "./Chat.js"
import { boshConfig, config, type ServerName, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()
const SLOW = 60_000




/** The bodies starting with `prefix` that `client` receives, until `until` arrives (not included). */
const receiveUntil = (client: XmppClient.XmppClient["Service"], prefix: string, until: string) =>
  client.stanzas.pipe(
    Stream.map(bodyOf),
    Stream.filter((body): body is string => body !== undefined && (body.startsWith(prefix) || body === until)),
    Stream.takeWhile((body) => body !== until),
    Stream.runCollect
  )

/** Stream management is on by default; these sessions go without it. */
const off = { enabled: false }

const relayTo = (server: ServerName) =>
  FaultRelay.make({ host: "127.0.0.1", port: s[server].https, servername: s.domain, caFile: s.ca, alpn: ["http/1.1"] })

describe("BOSH receipts without stream management, real servers", () => {
  for (const server of ["prosody", "ejabberd"] as const) {
    it.live(`${server}: sendAcknowledged resolves on the manager's answer, one request after another, never a held wait`, () =>
      Effect.gen(function*() {
        // wait 60 s: a request left held would take that long; 30 of them in a row would take 30 minutes.
        const alice = yield* XmppClient.connect(boshConfig(s, server, "alice", "https", { resource: `receipts-${server}`, wait: 60, streamManagement: off }))
        const bob = yield* XmppClient.connect({ ...config(s, server, "bob", { resource: `receipts-${server}` }), streamManagement: off })
        const bobJid = Jid.format(bob.jid)
        const arrived = yield* Effect.forkChild(receiveUntil(bob, "receipt-", "receipt-end"))
        const sent = numbered("receipt-", 30)
        yield* Effect.forEach(sent, (body) => alice.sendAcknowledged(chat(bobJid, body))).pipe(Effect.timeout("20 seconds"))
        yield* alice.sendAcknowledged(chat(bobJid, "receipt-end"))
        assert.deepStrictEqual([...yield* Fiber.join(arrived)], sent)
        // TCP without stream management has no receipts: said, not guessed.
        const refused = yield* Effect.flip(bob.sendAcknowledged(chat(Jid.format(alice.jid), "no receipts on tcp")))
        assert.strictEqual(refused.reason, "StreamManagementUnavailable")
      }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

    it.live(`${server}: a BOSH session cut mid-burst ends with every stanza bob may lack handed back, in order`, () =>
      Effect.gen(function*() {
        const relay = yield* relayTo(server)
        const url = `https://${s.domain}:${relay.port}${s[server].boshPath}`
        const alice = yield* XmppClient.connect(boshConfig(s, server, "alice", "https", { resource: `cut-${server}`, url, streamManagement: off }))
        const bob = yield* XmppClient.connect(config(s, server, "bob", { resource: `cut-${server}` }))
        const bobJid = Jid.format(bob.jid)
        const arrived = yield* Effect.forkChild(receiveUntil(bob, "cut-", "cut-marker"))
        const sent = numbered("cut-", 400)
        // When the 150th stanza is on its way, the network stops carrying HTTP: every connection
        // (the held one too, which a resend would otherwise reuse) is cut, and new ones are refused.
        relay.killWhen({
          direction: "toServer",
          when: (text) => {
            if (!text.includes(">cut-150<")) return false
            relay.refuse(true)
            relay.killAll()
            return true
          }
        })
        // `send` resolves once a stanza is queued: count what alice had accepted when the session ended.
        let accepted = 0
        yield* Effect.forEach(sent, (body) => Effect.map(alice.send(chat(bobJid, body)), () => accepted++)).pipe(
          Effect.ignore,
          Effect.forkChild
        )
        // The session's own end (its retries exhausted), as any caller sees it.
        const error = yield* alice.stanzas.pipe(Stream.runDrain, Effect.flip, Effect.timeout("40 seconds"))
        assert.strictEqual(error.reason, "ConnectionLost")
        const handedBack = (error.unacknowledged ?? []).map((stanza) => bodyOf(stanza) ?? "?")
        // A marker on a new session: once bob has it, he has everything the old one delivered.
        const again = yield* XmppClient.connect(boshConfig(s, server, "alice", "https", { resource: `cut-${server}-again` }))
        yield* again.sendAcknowledged(chat(bobJid, "cut-marker"))
        const received = [...yield* Fiber.join(arrived)]

        // The hand-back is a contiguous run of what alice accepted, in order, up to the last one...
        const first = sent.indexOf(handedBack[0] ?? "")
        assert.isAtLeast(first, 0)
        assert.deepStrictEqual(handedBack, sent.slice(first, accepted))
        // ...and bob got everything before it, in order, once each: nothing accepted vanished.
        assert.deepStrictEqual(received.slice(0, first), sent.slice(0, first))
        const lacking = sent.slice(0, accepted).filter((body) => !received.includes(body))
        assert.includeMembers(handedBack, lacking)
        assert.isAbove(lacking.length, 0, "the cut lost stanzas: the hand-back was put to the test")
      }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
  }
})
