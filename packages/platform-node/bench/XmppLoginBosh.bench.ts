/**
 * XmppClient over BOSH (https, keep-alive, undici) against the local servers
 * (`./run servers up`; reads .state/servers.json): full login time (session
 * creation, SASL, restart, bind), the HTTP requests one login takes (counted
 * on the XML console: one "out" per request posted), the message round
 * trip alice (BOSH) → bob (TCP) → alice, alice → bob one way, and the round
 * trip of a BOSH session to its own full JID (BOSH → server → BOSH). Each
 * figure is printed beside its target (issue 9); none is asserted.
 */
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Effect, ManagedRuntime, Queue, Schema, Stream } from "effect"
import { performance } from "node:perf_hooks"
import { report } from "../../../scripts/bench-harness.mjs"
import { benchServers, caPem } from "./BenchServers.js"

const state = benchServers("XMPP login over BOSH")
const ca = caPem(state)
type Server = "prosody" | "ejabberd"

const boshConfig = (server: Server, account: "alice" | "bob", mechanism: string, resource?: string) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: `${account}@${state.domain}`,
    password: state.accounts[account],
    ca,
    mechanisms: [mechanism],
    ...(resource === undefined ? {} : { resource }),
    transport: { _tag: "bosh", url: `https://${state.domain}:${state[server].https}${state[server].boshPath}`, mode: "keep-alive" }
  })

const tcpConfig = (server: Server, account: "alice" | "bob", resource: string) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: `${account}@${state.domain}`,
    password: state.accounts[account],
    ca,
    resource,
    transport: { _tag: "tcp", host: "127.0.0.1", port: state[server].c2s, directTls: false }
  })

const runtime = ManagedRuntime.make(NodeXmppClient.layerPorts())

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
const ms = (value: number) => `${value.toFixed(2)} ms`

const logins = async (server: Server, mechanism: string, count: number) => {
  const times: Array<number> = []
  const requests: Array<number> = []
  for (let i = 0; i < count + 3; i++) {
    const [elapsed, posted] = await runtime.runPromise(
      Effect.gen(function*() {
        let posted = 0
        const start = performance.now()
        const client = yield* XmppClient.connect(boshConfig(server, "alice", mechanism), {
          onTraffic: (direction) => {
            if (direction === "out") posted++
          }
        })
        const time = performance.now() - start
        const atBind = posted
        yield* client.close
        return [time, atBind] as const
      }).pipe(Effect.scoped)
    )
    if (i >= 3) {
      times.push(elapsed)
      requests.push(posted)
    }
  }
  return { times: times.sort((a, b) => a - b), requests: requests.sort((a, b) => a - b) }
}

const message = (to: Jid.Jid, id: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: Jid.format(to), id, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [id] })]
  })

const roundTrips = (server: Server, count: number) =>
  runtime.runPromise(
    Effect.gen(function*() {
      const alice = yield* XmppClient.connect(boshConfig(server, "alice", "SCRAM-SHA-256", "bench-bosh-a"))
      const bob = yield* XmppClient.connect(tcpConfig(server, "bob", "bench-bosh-b"))
      const bobInbox = yield* Queue.unbounded<Element.Element>()
      const aliceInbox = yield* Queue.unbounded<Element.Element>()
      yield* Effect.forkScoped(
        bob.stanzas.pipe(Stream.filter((s) => s.name === "message"), Stream.runForEach((s) => Queue.offer(bobInbox, s)))
      )
      yield* Effect.forkScoped(
        alice.stanzas.pipe(Stream.filter((s) => s.name === "message"), Stream.runForEach((s) => Queue.offer(aliceInbox, s)))
      )
      const oneWay: Array<number> = []
      const twoWay: Array<number> = []
      for (let i = 0; i < count + 10; i++) {
        const start = performance.now()
        yield* alice.send(message(bob.jid, `ow-${i}`))
        yield* Queue.take(bobInbox)
        const arrived = performance.now()
        yield* bob.send(message(alice.jid, `back-${i}`))
        yield* Queue.take(aliceInbox)
        if (i >= 10) {
          oneWay.push(arrived - start)
          twoWay.push(performance.now() - start)
        }
      }
      yield* alice.close
      yield* bob.close
      return { oneWay: oneWay.sort((a, b) => a - b), twoWay: twoWay.sort((a, b) => a - b) }
    }).pipe(Effect.scoped)
  )

/** Messages from a BOSH session to its own full JID, one at a time: each goes out in a request and comes back in an answer. */
const selfRoundTrips = (server: Server, count: number) =>
  runtime.runPromise(
    Effect.gen(function*() {
      const alice = yield* XmppClient.connect(boshConfig(server, "alice", "SCRAM-SHA-256", "bench-bosh-self"))
      const inbox = yield* Queue.unbounded<Element.Element>()
      yield* Effect.forkScoped(
        alice.stanzas.pipe(Stream.filter((s) => s.name === "message"), Stream.runForEach((s) => Queue.offer(inbox, s)))
      )
      const times: Array<number> = []
      for (let i = 0; i < count + 20; i++) {
        const start = performance.now()
        yield* alice.send(message(alice.jid, `self-${i}`))
        yield* Queue.take(inbox)
        if (i >= 20) times.push(performance.now() - start)
      }
      yield* alice.close
      return times.sort((a, b) => a - b)
    }).pipe(Effect.scoped)
  )

for (const server of ["prosody", "ejabberd"] as const) {
  const scram = await logins(server, "SCRAM-SHA-256", 30)
  const plain = await logins(server, "PLAIN", 30)
  const { oneWay, twoWay } = await roundTrips(server, 100)
  const self = await selfRoundTrips(server, 500)
  report(`XmppClient over BOSH, ${server} (https, keep-alive, loopback)`, [
    [
      "login SCRAM-SHA-256 median / p90 (30 logins)",
      `${ms(percentile(scram.times, 50))} / ${ms(percentile(scram.times, 90))}   (target: median ≤ 25 ms)`
    ],
    [
      "HTTP requests per SCRAM login (min / median / max)",
      `${scram.requests[0]} / ${percentile(scram.requests, 50)} / ${scram.requests.at(-1)}   (target: 5)`
    ],
    ["login PLAIN median / p90 (30 logins)", `${ms(percentile(plain.times, 50))} / ${ms(percentile(plain.times, 90))}`],
    ["HTTP requests per PLAIN login (min / median / max)", `${plain.requests[0]} / ${percentile(plain.requests, 50)} / ${plain.requests.at(-1)}`],
    [
      "round trip alice (BOSH) → alice (BOSH) median / p99 (500)",
      `${ms(percentile(self, 50))} / ${ms(percentile(self, 99))}   (target: median ≤ 2 ms, p99 < 5 ms)`
    ],
    [
      "alice (BOSH) → bob (TCP) median / p99 (100)",
      `${ms(percentile(oneWay, 50))} / ${ms(percentile(oneWay, 99))}   (target: median ≤ 0.5 ms)`
    ],
    ["round trip alice (BOSH) → bob (TCP) → alice median / p99", `${ms(percentile(twoWay, 50))} / ${ms(percentile(twoWay, 99))}`]
  ])
}
await runtime.dispose()
