/**
 * XEP-0198 over BOSH against the real Prosody and ejabberd, when the BOSH
 * session itself is lost: alice talks BOSH through the fault relay (in front
 * of the server's HTTPS port), bob TCP directly. Her BOSH session is lost
 * (the manager no longer knows the `sid` she sends, and every HTTP
 * connection is cut, as when the network drops).
 *
 * Over BOSH the client does not ask for resumption (`SessionSettings.resumesOver`):
 * measured with this file's earlier version (commit d633313), Prosody 0.12.3
 * never answers a `<resume/>` on a new BOSH session (its mod_smacks fails
 * there) and ejabberd 23.01 resumes but delivers what the lost BOSH session
 * still buffered twice. So a new session is bound and what the old one may
 * not have delivered is handed back: nothing arrives twice, nothing alice
 * handed over vanishes without a word.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ConnectionEvent, XmppClient } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { FaultRelay } from "@xmpp-core/platform-node/testing"
import { Effect, Exit, Queue, Scope, Stream } from "effect"
import { Jid } from "@xmpp-core/protocol"
import { bodyOf, chat, numberedFrom as numbered } from "./Chat.js"
import { boshConfig, config, type ServerName, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()
const SLOW = 60_000




/**
 * The bodies starting with `prefix` that `client` receives, in arrival order, and a wait for
 * one of them (its first arrival, within 10 s).
 */
const record = (client: XmppClient.XmppClient["Service"], prefix: string, who: string) =>
  Effect.gen(function*() {
    const arrived: Array<string> = []
    const arrivals = yield* Queue.unbounded<void>()
    yield* client.stanzas.pipe(
      Stream.runForEach((stanza) =>
        Effect.sync(() => {
          const body = bodyOf(stanza)
          if (body?.startsWith(prefix) !== true) return
          arrived.push(body)
          Queue.offerUnsafe(arrivals, undefined)
        })
      ),
      Effect.forkChild
    )
    const has = (body: string) =>
      Effect.gen(function*() {
        while (!arrived.includes(body)) yield* Queue.take(arrivals)
      }).pipe(Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die(new Error(`${who} never got ${body}`)) }))
    return { arrived, has }
  })

/**
 * alice over BOSH through a relay on `server`'s HTTPS port, with stream management and reconnects; bob
 * over TCP with stream management (so `sendAcknowledged` says the server has routed his messages).
 * alice's stanzas from bob are recorded as they come, each arrival an event.
 */
const setUp = (server: ServerName, resource: string) =>
  Effect.gen(function*() {
    const relay = yield* FaultRelay.make({
      host: "127.0.0.1",
      port: s[server].https,
      servername: s.domain,
      caFile: s.ca,
      alpn: ["http/1.1"]
    })
    // alice in a scope of her own, so a test can end her session the way an app's scope would.
    const aliceScope = yield* Scope.fork(yield* Scope.Scope)
    const alice = yield* Scope.provide(aliceScope)(XmppClient.connect({
      ...boshConfig(s, server, "alice", "https", {
        url: `https://${s.domain}:${relay.port}${s[server].boshPath}`,
        resource,
        streamManagement: { requestEvery: 5 },
        // A held request comes back within 1 s: what the manager answers shows without a long wait.
        wait: 1
      }),
      reconnect: { attempts: 20, initialDelay: 200, maxDelay: 400 }
    }))
    const bob = yield* XmppClient.connect({ ...config(s, server, "bob", { resource }), streamManagement: {} })
    const events = yield* Queue.unbounded<ConnectionEvent>()
    yield* alice.events.pipe(Stream.runForEach((event) => Queue.offer(events, event)), Effect.forkChild)
    const { arrived: atAlice, has: aliceHas } = yield* record(alice, "b2a-", "alice")
    const { arrived: atBob, has: bobHas } = yield* record(bob, "a2b-", "bob")
    /** The next event with one of `tags`, the ones before it in `passed`. */
    const next = (tags: ReadonlyArray<ConnectionEvent["_tag"]>, passed: Array<string> = []) =>
      Effect.gen(function*() {
        while (true) {
          const event = yield* Queue.take(events)
          if (tags.includes(event._tag)) return event
          passed.push(event._tag)
        }
      }).pipe(Effect.timeoutOrElse({ duration: "15 seconds", orElse: () => Effect.die(new Error(`no ${tags.join(" or ")} within 15 s`)) }))
    /**
     * Loses alice's BOSH session: from now on the relay garbles its `sid` (same length, so the HTTP
     * framing holds), and every HTTP connection is cut; her resent request then meets `item-not-found`.
     */
    const loseBoshSession = () => {
      const sid = /\bsid=['"]([^'"]+)['"]/.exec(relay.links[0]?.toClient ?? "")?.[1]
      assert.isDefined(sid, "the session creation answer names the sid")
      const unknown = (sid ?? "").replace(/[0-9a-f]/gi, (c) => (c === "0" ? "1" : "0"))
      relay.rewrite("toServer", (text) => text.split(sid ?? "").join(unknown))
      relay.killAll()
    }
    return { relay, alice, aliceScope, bob, atAlice, atBob, aliceHas, bobHas, next, loseBoshSession }
  })

describe("XEP-0198 over BOSH when the BOSH session is lost, real servers", () => {
  for (const server of ["prosody", "ejabberd"] as const) {
    it.live(`${server}: a new session replaces the lost one without <resume/>; what it may lack is handed back, nothing comes twice`, () =>
      Effect.gen(function*() {
        const { alice, aliceHas, aliceScope, atAlice, atBob, bob, bobHas, loseBoshSession, next, relay } = yield* setUp(server, "sm-bosh-lost")
        const toBob = Jid.format(bob.jid)
        const toAlice = Jid.format(alice.jid)
        for (const body of numbered("a2b-", 0, 10)) yield* alice.sendAcknowledged(chat(toBob, body))
        for (const body of numbered("b2a-", 0, 10)) yield* bob.send(chat(toAlice, body))
        yield* aliceHas("b2a-9")
        const toServer = () => relay.links.map((link) => link.toServer).join("")
        assert.notMatch(toServer(), /<enable[^>]*resume=/, "no resumable session asked for over BOSH")

        loseBoshSession()
        // Handed over as the session dies: the server never gets them on it.
        for (const body of numbered("a2b-", 10, 15)) yield* alice.send(chat(toBob, body))
        const lost = yield* next(["Disconnected"])
        assert.strictEqual(lost._tag === "Disconnected" ? lost.error.condition : "", "item-not-found")
        relay.refuse(true)
        for (const body of numbered("b2a-", 10, 20)) yield* bob.sendAcknowledged(chat(toAlice, body))
        relay.refuse(false)
        relay.rewrite("toServer", undefined)
        const passed: Array<string> = []
        const outcome = yield* next(["Resumed", "ResumeFailed", "GaveUp"], passed)
        assert.strictEqual(outcome._tag, "ResumeFailed", `after ${passed.join(", ")}`)
        assert.notInclude(passed, "Resuming")
        assert.notInclude(toServer(), "<resume ")
        const handedBack = (outcome._tag === "ResumeFailed" ? outcome.unacknowledged : []).map((stanza) => bodyOf(stanza) ?? "?")
        yield* next(["Online"])

        // After the new session, as before the loss: once each, in order.
        for (const body of numbered("a2b-", 20, 25)) yield* alice.sendAcknowledged(chat(toBob, body))
        for (const body of numbered("b2a-", 20, 25)) yield* bob.sendAcknowledged(chat(toAlice, body))
        yield* bobHas("a2b-24")
        yield* aliceHas("b2a-24")

        // alice → bob: nothing twice, and every stanza either arrived or came back to alice.
        assert.deepStrictEqual(atBob, [...new Set(atBob)], "nothing twice at bob")
        const sent = [...numbered("a2b-", 0, 15), ...numbered("a2b-", 20, 25)]
        const lacking = sent.filter((body) => !atBob.includes(body))
        assert.includeMembers(handedBack, lacking)
        assert.deepStrictEqual(handedBack, numbered("a2b-", 10, 15), "exactly what the lost session carried unacknowledged")
        assert.deepStrictEqual(atBob.filter((body) => !handedBack.includes(body)), [...numbered("a2b-", 0, 10), ...numbered("a2b-", 20, 25)])
        // bob → alice: nothing twice (what reached the old session while it was down is the server's to keep or bounce).
        assert.deepStrictEqual(atAlice, [...new Set(atAlice)], "nothing twice at alice")
        assert.deepStrictEqual(atAlice.slice(0, 10), numbered("b2a-", 0, 10))
        assert.deepStrictEqual(atAlice.slice(-5), numbered("b2a-", 20, 25))

        // Her scope ends: the new session is closed with a terminate, answered (the links made by the
        // reconnect outlive the session's close; they had been closed first, and the close waited 5 s).
        yield* Scope.close(aliceScope, Exit.void).pipe(Effect.timeout("2 seconds"))
        assert.match(toServer(), /type='terminate'/)
      }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
  }
})
