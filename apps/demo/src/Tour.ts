/**
 * The self-contained tour: against the local test servers, alice and bob
 * log in on Prosody and ejabberd, alice sends bob a burst of messages, bob
 * must receive each exactly once and in order, then a round trip is timed
 * and both close cleanly. Results on stdout, progress on stderr.
 *
 * @since 0.1.0
 */
import { type XmppClient, XmppClientConfig, type XmppClientError } from "@xmpp-core/client"
import { Element, Jid } from "@xmpp-core/protocol"
import { Duration, Effect, Fiber, Schema, Stream } from "effect"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import { randomUUID } from "node:crypto"
import * as Output from "./Console.js"
import { DemoError } from "./DemoError.js"
import * as Servers from "./Servers.js"
import * as Session from "./Session.js"
import * as Stanza from "./Stanza.js"

/** How many messages alice sends bob in one burst. */
const BURST = 5
/** How long bob may take to receive the burst before the tour calls it lost. */
const DELIVERY_TIMEOUT = Duration.seconds(10)

type ServerName = "prosody" | "ejabberd"

const tourFailed = (message: string) => new DemoError({ reason: "TourFailed", message })

const accountConfig = (
  servers: Servers.Servers,
  ca: string,
  server: ServerName,
  account: "alice" | "bob",
  transport: "tcp" | "bosh"
) =>
  Schema.decodeUnknownEffect(XmppClientConfig.XmppClientConfig)({
    jid: `${account}@${servers.domain}`,
    password: servers.accounts[account],
    ca,
    transport: transport === "tcp"
      ? {
        _tag: "tcp",
        host: "127.0.0.1",
        port: servers[server].c2s,
        directTls: false
      }
      : { _tag: "bosh", url: `https://${servers.domain}:${servers[server].https}${servers[server].boshPath}` }
  }).pipe(
    Effect.mapError((error) =>
      new DemoError({ reason: "ServersUnavailable", message: `${Servers.stateFile} gives no usable config: ${error.message}` })
    )
  )

interface Received {
  readonly id: string
  readonly at: number
}

// The next `count` messages whose id starts with `prefix`, with the time each
// arrived; after the timeout, whatever arrived so far (so a loss shows).
const receive = (client: XmppClient.XmppClient["Service"], prefix: string, count: number) =>
  Effect.suspend(() => {
    const received: Array<Received> = []
    return client.stanzas.pipe(
      Stream.filter((stanza) => stanza.name === "message" && (Element.attribute(stanza, "id") ?? "").startsWith(prefix)),
      Stream.take(count),
      Stream.runForEach((stanza) =>
        Effect.sync(() => received.push({ id: Element.attribute(stanza, "id") ?? "", at: performance.now() }))
      ),
      Effect.timeoutOption(DELIVERY_TIMEOUT),
      Effect.map(() => received)
    )
  })

const exchange = (server: ServerName, transport: "tcp" | "bosh", servers: Servers.Servers, ca: string, debug: boolean) =>
  Effect.gen(function*() {
    const label = `${server}/${transport}`
    const alice = yield* Session.login(yield* accountConfig(servers, ca, server, "alice", transport), { label: `${label} alice`, debug })
    const bob = yield* Session.login(yield* accountConfig(servers, ca, server, "bob", transport), { label: `${label} bob`, debug })
    for (const [name, session] of [["alice", alice], ["bob", bob]] as const) {
      yield* Output.result(
        `${label}: ${name} bound as ${Jid.format(session.client.jid)} with ${session.client.mechanism} in ${Output.ms(session.loginMillis)}`
      )
    }

    // A burst, then a marker: bob must see exactly the burst in order and then
    // the marker, so a copy of any message would show up before the marker.
    const prefix = `tour-${randomUUID().slice(0, 8)}-`
    const expected = [...Array.from({ length: BURST }, (_, i) => `${prefix}${i + 1}`), `${prefix}marker`]
    const receiving = yield* Effect.forkChild(receive(bob.client, prefix, expected.length))
    yield* Output.progress(`${label} alice sends bob ${BURST} messages`)
    const sentAt = performance.now()
    for (const id of expected) {
      yield* alice.client.send(Stanza.chat({ to: bob.client.jid, id, body: `message ${id.slice(prefix.length)}` }))
    }
    const received = yield* Fiber.join(receiving)
    const ids = received.map((m) => m.id)
    if (ids.join(" ") !== expected.join(" ")) {
      return yield* tourFailed(
        `${label}: bob received [${ids.map((id) => id.slice(prefix.length)).join(", ")}], expected [${expected.map((id) => id.slice(prefix.length)).join(", ")}]`
      )
    }
    const last = received[received.length - 1]
    yield* Output.result(
      `${label}: bob received ${BURST} messages (+ marker) exactly once, in order; all delivered ${Output.ms((last?.at ?? sentAt) - sentAt)} after the first send`
    )

    // Round trip: alice → bob, bob answers at once, alice receives the answer.
    const pingId = `${prefix}ping`
    const answering = yield* Effect.forkChild(
      receive(bob.client, pingId, 1).pipe(
        Effect.flatMap(() => bob.client.send(Stanza.chat({ to: alice.client.jid, id: `${pingId}-answer`, body: "pong" })))
      )
    )
    const pingAt = performance.now()
    const answered = yield* Effect.forkChild(receive(alice.client, `${pingId}-answer`, 1))
    yield* alice.client.send(Stanza.chat({ to: bob.client.jid, id: pingId, body: "ping" }))
    const answer = yield* Fiber.join(answered)
    yield* Fiber.join(answering)
    const pong = answer[0]
    if (pong === undefined) return yield* tourFailed(`${label}: bob's answer to alice's ping never arrived`)
    yield* Output.result(`${label}: round trip alice → bob → alice ${Output.ms(pong.at - pingAt)}`)

    const closingAt = performance.now()
    yield* Effect.all([alice.client.close, bob.client.close], { concurrency: 2 })
    yield* Output.result(`${label}: both closed cleanly in ${Output.ms(performance.now() - closingAt)}`)
  }).pipe(Effect.scoped)

/**
 * Runs the tour; `startServers` runs `scripts/servers.sh up` first.
 *
 * @since 0.1.0
 */
export const run = (
  options: { readonly startServers: boolean; readonly debug: boolean }
): Effect.Effect<void, DemoError | XmppClientError, Session.Ports | ChildProcessSpawner> =>
  Effect.gen(function*() {
    if (options.startServers) {
      yield* Output.progress("starting the local test servers (scripts/servers.sh up)")
      yield* Servers.up
    }
    const servers = yield* Servers.read
    const ca = yield* Servers.readCa(servers)
    for (const server of ["prosody", "ejabberd"] as const) {
      yield* exchange(server, "tcp", servers, ca, options.debug)
      // BOSH over https (XEP-0206), the same client API and the same checks.
      yield* exchange(server, "bosh", servers, ca, options.debug)
    }
    yield* Output.result("tour: ok")
  })

