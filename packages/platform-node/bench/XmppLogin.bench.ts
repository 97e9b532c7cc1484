/**
 * XmppClient over TCP against the local servers (`./run servers up`; reads
 * .state/servers.json): full login time (connect, STARTTLS or direct TLS,
 * SCRAM-SHA-256, bind), message round trip alice→bob (send until bob's
 * stanza stream yields it, one at a time), and a 5,000-message burst.
 * Prosody's `limits` and ejabberd's shaper are off on the test servers.
 */
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Effect, Fiber, ManagedRuntime, Queue, Schema, Stream } from "effect"
import { performance } from "node:perf_hooks"
import { report } from "../../../scripts/bench-harness.mjs"
import { benchServers, caPem } from "./BenchServers.js"

const state = benchServers("XMPP login over TCP")
const ca = caPem(state)
type Server = "prosody" | "ejabberd"

const config = (
  server: Server,
  account: "alice" | "bob",
  options: { readonly directTls?: boolean; readonly resource?: string; readonly mechanism?: string } = {}
) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: `${account}@${state.domain}`,
    password: state.accounts[account],
    ca,
    mechanisms: [options.mechanism ?? "SCRAM-SHA-256"],
    ...(options.resource === undefined ? {} : { resource: options.resource }),
    transport: {
      _tag: "tcp",
      host: "127.0.0.1",
      port: options.directTls === true ? state[server].c2sDirectTls : state[server].c2s,
      directTls: options.directTls === true
    }
  })

const runtime = ManagedRuntime.make(NodeXmppClient.layerPorts())

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
const ms = (value: number) => `${value.toFixed(2)} ms`

const loginTimes = async (server: Server, directTls: boolean, count: number, mechanism?: string) => {
  const times: Array<number> = []
  for (let i = 0; i < count + 3; i++) {
    const elapsed = await runtime.runPromise(
      Effect.gen(function*() {
        const start = performance.now()
        const client = yield* XmppClient.connect(
          config(server, "alice", { directTls, ...(mechanism === undefined ? {} : { mechanism }) })
        )
        const time = performance.now() - start
        yield* client.close
        return time
      }).pipe(Effect.scoped)
    )
    if (i >= 3) times.push(elapsed)
  }
  return times.sort((a, b) => a - b)
}

const message = (to: Jid.Jid, id: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: Jid.format(to), id, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [id] })]
  })

const messaging = (server: Server, roundTrips: number, burst: number) =>
  runtime.runPromise(
    Effect.gen(function*() {
      const alice = yield* XmppClient.connect(config(server, "alice", { resource: "bench-a" }))
      const bob = yield* XmppClient.connect(config(server, "bob", { resource: "bench-b" }))
      const inbox = yield* Queue.unbounded<Element.Element>()
      yield* Effect.forkScoped(
        bob.stanzas.pipe(Stream.filter((s) => s.name === "message"), Stream.runForEach((s) => Queue.offer(inbox, s)))
      )
      const rtt: Array<number> = []
      for (let i = 0; i < roundTrips + 20; i++) {
        const start = performance.now()
        yield* alice.send(message(bob.jid, `rt-${i}`))
        yield* Queue.take(inbox)
        if (i >= 20) rtt.push(performance.now() - start)
      }
      const start = performance.now()
      const receiving = yield* Effect.forkChild(Effect.forEach(Array.from({ length: burst }), () => Queue.take(inbox)))
      for (let i = 0; i < burst; i++) yield* alice.send(message(bob.jid, `burst-${i}`))
      const received = yield* Fiber.join(receiving)
      const seconds = (performance.now() - start) / 1000
      const inOrder = received.every((m, i) => Element.attribute(m, "id") === `burst-${i}`)
      yield* alice.close
      yield* bob.close
      return { rtt: rtt.sort((a, b) => a - b), perSecond: burst / seconds, inOrder }
    }).pipe(Effect.scoped)
  )

for (const server of ["prosody", "ejabberd"] as const) {
  const starttls = await loginTimes(server, false, 40)
  const direct = await loginTimes(server, true, 40)
  const plain = await loginTimes(server, false, 40, "PLAIN")
  const { inOrder, perSecond, rtt } = await messaging(server, 300, 5000)
  report(`XmppClient over TCP, ${server} (loopback; SCRAM-SHA-256)`, [
    ["login STARTTLS median / p90 (40 logins)", `${ms(percentile(starttls, 50))} / ${ms(percentile(starttls, 90))}`],
    ["login direct TLS median / p90 (40 logins)", `${ms(percentile(direct, 50))} / ${ms(percentile(direct, 90))}`],
    ["login STARTTLS with PLAIN instead (no PBKDF2)", `${ms(percentile(plain, 50))} / ${ms(percentile(plain, 90))}`],
    ["round trip alice→bob median / p99 (300)", `${ms(percentile(rtt, 50))} / ${ms(percentile(rtt, 99))}`],
    ["burst of 5,000 alice→bob", `${Math.round(perSecond)} messages/s${inOrder ? ", complete and in order" : ", OUT OF ORDER"}`]
  ])
}
await runtime.dispose()
