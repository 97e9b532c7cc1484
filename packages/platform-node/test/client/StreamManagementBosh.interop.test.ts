/**
 * XEP-0198 resumption over BOSH against the real Prosody and ejabberd: alice
 * talks BOSH through the fault relay (in front of the server's HTTPS port),
 * bob TCP directly. Her BOSH session is lost (the manager no longer knows
 * the `sid` she sends, and every HTTP connection is cut, as when the network
 * drops); her client opens a new BOSH session and sends `<resume/>` on it.
 * What each server then does is pinned here (the session README says it in
 * words).
 */
import { assert, describe, it } from "@effect/vitest"
import { type ConnectionEvent, XmppClient } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { FaultRelay } from "@xmpp-core/platform-node/testing"
import { Deferred, Effect, Queue, Stream } from "effect"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { boshConfig, config, type ServerName, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()
const SLOW = 60_000

const chat = (to: string, body: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

const bodyOf = (stanza: Element.Element) => {
  const body = Element.child(stanza, "body", Namespaces.JABBER_CLIENT)
  return body === undefined ? undefined : Element.text(body)
}

/** Whether the server sent `stanza` again from its stream-management queue (ejabberd marks it `<delay>Resent</delay>`). */
const resent = (stanza: Element.Element) => {
  const delay = Element.child(stanza, "delay", "urn:xmpp:delay")
  return delay !== undefined && Element.text(delay) === "Resent"
}

const numbered = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`)

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
    const alice = yield* XmppClient.connect({
      ...boshConfig(s, server, "alice", "https", {
        url: `https://${s.domain}:${relay.port}${s[server].boshPath}`,
        resource,
        streamManagement: { requestEvery: 5 },
        // A held request comes back within 1 s: what the manager answers shows without a long wait.
        wait: 1
      }),
      reconnect: { attempts: 20, initialDelay: 200, maxDelay: 400 }
    })
    const bob = yield* XmppClient.connect({ ...config(s, server, "bob", { resource }), streamManagement: {} })
    const events = yield* Queue.unbounded<ConnectionEvent>()
    yield* alice.events.pipe(Stream.runForEach((event) => Queue.offer(events, event)), Effect.forkChild)
    const atAlice: Array<{ readonly body: string; readonly resent: boolean }> = []
    const aliceArrivals = yield* Queue.unbounded<void>()
    yield* alice.stanzas.pipe(
      Stream.runForEach((stanza) =>
        Effect.sync(() => {
          const body = bodyOf(stanza)
          if (body?.startsWith("b2a-") !== true) return
          atAlice.push({ body, resent: resent(stanza) })
          Queue.offerUnsafe(aliceArrivals, undefined)
        })
      ),
      Effect.forkChild
    )
    const atBob: Array<string> = []
    const bobArrivals = yield* Queue.unbounded<void>()
    yield* bob.stanzas.pipe(
      Stream.runForEach((stanza) =>
        Effect.sync(() => {
          const body = bodyOf(stanza)
          if (body?.startsWith("a2b-") !== true) return
          atBob.push(body)
          Queue.offerUnsafe(bobArrivals, undefined)
        })
      ),
      Effect.forkChild
    )
    /** Waits until alice has received `body` (the first time). */
    const aliceHas = (body: string) =>
      Effect.gen(function*() {
        while (!atAlice.some((got) => got.body === body)) yield* Queue.take(aliceArrivals)
      }).pipe(Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die(new Error(`alice never got ${body}`)) }))
    const bobHas = (body: string) =>
      Effect.gen(function*() {
        while (!atBob.includes(body)) yield* Queue.take(bobArrivals)
      }).pipe(Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die(new Error(`bob never got ${body}`)) }))
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
    return { relay, alice, bob, atAlice, atBob, aliceHas, bobHas, next, loseBoshSession }
  })

describe("XEP-0198 resumption over BOSH, real servers", () => {
  it.live("ejabberd over BOSH: a lost BOSH session is resumed on a new one; nothing lost, but what the old one still held comes twice", () =>
    Effect.gen(function*() {
      const { alice, aliceHas, atAlice, atBob, bob, bobHas, loseBoshSession, next, relay } = yield* setUp("ejabberd", "sm-bosh-resume")
      const toBob = Jid.format(bob.jid)
      const toAlice = Jid.format(alice.jid)
      for (const body of numbered("a2b-", 0, 10)) yield* alice.sendAcknowledged(chat(toBob, body))
      for (const body of numbered("b2a-", 0, 10)) yield* bob.send(chat(toAlice, body))
      yield* aliceHas("b2a-9")

      loseBoshSession()
      // Handed over as the session dies: the server never gets them on it.
      for (const body of numbered("a2b-", 10, 15)) yield* alice.send(chat(toBob, body))
      const lost = yield* next(["Disconnected"])
      assert.strictEqual(lost._tag === "Disconnected" ? lost.error.condition : "", "item-not-found")
      // Down: bob's messages reach the server (acknowledged) but not alice; alice's wait.
      relay.refuse(true)
      for (const body of numbered("b2a-", 10, 20)) yield* bob.sendAcknowledged(chat(toAlice, body))
      for (const body of numbered("a2b-", 15, 20)) yield* alice.send(chat(toBob, body))
      relay.refuse(false)
      const passed: Array<string> = []
      const outcome = yield* next(["Resumed", "ResumeFailed", "GaveUp"], passed)
      assert.strictEqual(outcome._tag, "Resumed", `after ${passed.join(", ")}`)
      assert.include(relay.links.map((link) => link.toClient).join(""), "<resumed ", "over the new BOSH session")

      for (const body of numbered("a2b-", 20, 25)) yield* alice.sendAcknowledged(chat(toBob, body))
      for (const body of numbered("b2a-", 20, 25)) yield* bob.sendAcknowledged(chat(toAlice, body))
      yield* bobHas("a2b-24")
      yield* aliceHas("b2a-24")

      assert.deepStrictEqual(atBob, numbered("a2b-", 0, 25), "alice → bob: once each, in order")
      const firsts = [...new Set(atAlice.map((got) => got.body))]
      assert.deepStrictEqual(firsts, numbered("b2a-", 0, 25), "bob → alice: none lost, in order (first arrivals)")
      // ejabberd 23.01: the stanzas its old BOSH session still buffered come once from the
      // stream-management queue (delay 'Resent'), then again when the old session's process
      // ends and re-routes its buffer (ejabberd_bosh: bounce_els_from_obuf) to alice's JID,
      // which the resumed session now holds. The client cannot tell them apart.
      const twice = firsts.filter((body) => atAlice.filter((got) => got.body === body).length > 1)
      assert.isAbove(twice.length, 0, "ejabberd delivers what the lost BOSH session buffered twice")
      for (const body of twice) {
        const copies = atAlice.filter((got) => got.body === body)
        assert.deepStrictEqual(copies.map((got) => got.resent), [true, false], `${body}: first resent, then re-routed`)
      }
      assert.isTrue(twice.every((body) => numbered("b2a-", 10, 20).includes(body)), `twice: ${twice.join(", ")}`)
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)

  it.live("prosody over BOSH: a <resume/> on a new BOSH session gets no answer (mod_smacks fails on a BOSH session)", () =>
    Effect.gen(function*() {
      const { alice, aliceHas, bob, loseBoshSession, next, relay } = yield* setUp("prosody", "sm-bosh-resume")
      const toBob = Jid.format(bob.jid)
      for (const body of numbered("a2b-", 0, 5)) yield* alice.sendAcknowledged(chat(toBob, body))
      for (const body of numbered("b2a-", 0, 5)) yield* bob.send(chat(Jid.format(alice.jid), body))
      yield* aliceHas("b2a-4")
      // The answer to the request that carried the <resume/>: requests and answers alternate on an
      // HTTP connection, so it is the answer numbered like that request on its link.
      const answered = yield* Deferred.make<string>()
      relay.killWhen({
        direction: "toClient",
        when: (text, link) => {
          const sent = link.toServer.indexOf("<resume ")
          if (sent < 0) return false
          const index = link.toServer.slice(0, sent).split("POST ").length - 1
          const answer = text.split("HTTP/1.1 ")[index]
          if (answer !== undefined && /<body[^>]*(\/>|>[\s\S]*<\/body>)\s*$/.test(answer)) Deferred.doneUnsafe(answered, Effect.succeed(answer))
          return false
        }
      })
      loseBoshSession()
      yield* next(["Disconnected"])
      yield* next(["Resuming"])
      // Held for `wait` (1 s), then answered empty: neither <resumed/> nor <failed/>. Prosody 0.12.3's
      // mod_smacks fails on the BOSH session (`rawsend` is nil there: a traceback in its error log).
      const answer = yield* Deferred.await(answered).pipe(
        Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die(new Error("the request carrying <resume/> was never answered")) })
      )
      assert.match(answer, /^200 /)
      assert.notInclude(answer, "<resumed")
      assert.notInclude(answer, "<failed")
      // The client is left waiting for the answer: its negotiation deadline (30 s) ends the session
      // (GaveUp, NegotiationFailed); the session README says so. Not waited for here.
    }).pipe(Effect.scoped, Effect.provide(ports)), SLOW)
})
