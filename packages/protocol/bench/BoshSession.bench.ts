/**
 * 100,000 stanzas through the BOSH machine and the simulated connection
 * manager, no I/O: the machine's own cost per stanza (target < 5 µs).
 */
import { BoshSession, Element } from "@xmpp-core/protocol"
import { BoshSimulatedConnectionManager as CM } from "@xmpp-core/protocol/testing"
import { performance } from "node:perf_hooks"
import { report } from "../../../scripts/bench-harness.mjs"

const STANZAS = 100_000

const message = (n: number) =>
  Element.make("message", {
    namespace: "jabber:client",
    attributes: { to: "bob@localhost", id: `m-${n}`, type: "chat" },
    children: [Element.make("body", { namespace: "jabber:client", children: [`hello ${n}`] })]
  })

// Built once: elements are immutable, and a fresh 100,000 per run would make the collector
// charge each run for the previous run's stanzas.
const stanzas = Array.from({ length: STANZAS }, (_, n) => message(n))

/** One run: the client sends (or the server pushes) STANZAS stanzas one event each; returns ns per stanza. */
const once = (direction: "client-to-server" | "server-to-client", keys: boolean, burst = 1): number => {
  const manager = CM.make({ wait: 60, hold: 1, requests: 2, polling: 2, inactivity: 60, enforceKeys: keys, recordHeld: false })
  let now = 0
  let delivered = 0
  // `./run bench` starts node with --expose-gc: every run starts from a collected heap.
  globalThis.gc?.()
  const started = performance.now()
  let step = BoshSession.make(
    { to: "localhost", keys },
    { rid: new Uint8Array([1, 2, 3, 4, 5, 6]), keySeed: new Uint8Array(16).fill(7) },
    now
  )
  let state = step.state
  // The "network": answers go straight back, in order.
  const inbox: Array<BoshSession.Event> = []
  const perform = (actions: ReadonlyArray<BoshSession.Action>) => {
    for (const action of actions) {
      if (action._tag === "Request") {
        for (const answer of CM.receive(manager, 0, action, now)) {
          inbox.push({ _tag: "HttpResponse", rid: answer.rid, status: 200, body: answer.body })
        }
      } else if (action._tag === "Deliver") {
        for (const payload of action.payloads) if (payload.name === "message") delivered++
        // Polls are demand-driven: a reader that took the payloads asks for more, as the driver does.
        if (direction === "server-to-client") inbox.push(BoshSession.Event.receive())
      }
    }
  }
  const drain = () => {
    let event = inbox.shift()
    while (event !== undefined) {
      step = BoshSession.step(state, event, now)
      state = step.state
      perform(step.actions)
      event = inbox.shift()
    }
  }
  perform(step.actions)
  if (direction === "server-to-client") inbox.push(BoshSession.Event.receive())
  drain()
  for (let i = 0; i < STANZAS; i++) {
    now += 1
    const stanza = stanzas[i]
    if (stanza === undefined) continue
    if (direction === "client-to-server") {
      step = BoshSession.step(state, BoshSession.Event.send([stanza]), now)
      state = step.state
      perform(step.actions)
    } else {
      for (const answer of CM.push(manager, [stanza], now)) {
        inbox.push({ _tag: "HttpResponse", rid: answer.rid, status: 200, body: answer.body })
      }
    }
    // With `burst` > 1 the answers come back only every `burst` events, so sends batch up.
    if (i % burst === burst - 1) drain()
  }
  drain()
  const elapsed = performance.now() - started
  const arrived = direction === "client-to-server" ? manager.forwarded.length : delivered
  if (arrived !== STANZAS || manager.violations.length > 0) {
    throw new Error(`only ${arrived} of ${STANZAS} arrived; violations: ${manager.violations.join("; ")}`)
  }
  return (elapsed * 1e6) / STANZAS
}

const median = (f: () => number) => {
  f()
  const samples = [f(), f(), f(), f(), f()].sort((a, b) => a - b)
  return samples[2] ?? NaN
}

report(`BOSH session + simulated manager, ${STANZAS.toLocaleString("en")} stanzas, one event each (median of 5, heap collected before each run)`, [
  ["client → server, keys on, per stanza", `${(median(() => once("client-to-server", true)) / 1000).toFixed(2)} µs`],
  ["client → server, keys off, per stanza", `${(median(() => once("client-to-server", false)) / 1000).toFixed(2)} µs`],
  ["server → client, keys on, per stanza", `${(median(() => once("server-to-client", true)) / 1000).toFixed(2)} µs`],
  [
    "client → server, keys on, answers every 10 sends (batching)",
    `${(median(() => once("client-to-server", true, 10)) / 1000).toFixed(2)} µs`
  ]
])
