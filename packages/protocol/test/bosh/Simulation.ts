/**
 * A deterministic discrete-event simulation: the BOSH machine, a fault
 * injector standing for the HTTP connections, and the simulated connection
 * manager, on one simulated clock (ms).
 */
import { type BoshError, BoshSession, Element } from "@xmpp-core/protocol"
import { BoshSimulatedConnectionManager as CM } from "@xmpp-core/protocol/testing"

export type Fault =
  | "none"
  /** The request never reaches the manager; the connection reports an error. */
  | "lose-request"
  /** The request never reaches the manager; nothing comes back (the client must time out). */
  | "hang-request"
  /** The manager acts on the request; the answer is lost and the connection reports an error. */
  | "lose-response"
  /** The manager acts on the request; the answer never comes back. */
  | "hang-response"
  /** The answer arrives twice. */
  | "duplicate-response"
  /** The answer is held up for seconds, overtaking others. */
  | "delay-response"
  /** An HTTP intermediary answers 503 instead of the manager. */
  | "http-503"

/**
 * The machine under test: `BoshSession` itself, or a deliberately broken
 * wrapper of it (`BrokenMachines`).
 */
export interface Machine {
  readonly make: typeof BoshSession.make
  readonly step: typeof BoshSession.step
  readonly nextDeadline: typeof BoshSession.nextDeadline
}

export interface Script {
  readonly at: number
  readonly count: number
}

export interface Scenario {
  readonly manager: CM.Config
  readonly client: Omit<BoshSession.Options, "to">
  /** Client sends `count` stanzas at `at` (ms after start). */
  readonly clientSends: ReadonlyArray<Script>
  /** The server sends `count` stanzas at `at`. */
  readonly serverSends: ReadonlyArray<Script>
  readonly restartAt?: number | undefined
  /** Pause (§10) for `seconds` at `at`, resuming after `resumeAfter` ms. */
  readonly pause?: { readonly at: number; readonly seconds: number; readonly resumeAfter: number } | undefined
  /** Close (with one last stanza) at this time. */
  readonly closeAt?: number | undefined
  /** Fault for each successive exchange; past the end, none. */
  readonly faults: ReadonlyArray<Fault>
  /** At most this many faults hit one rid (keeps the faults recoverable). */
  readonly maxFaultsPerRid: number
  /** Latency jitter per exchange, ms (cycled). */
  readonly jitter: ReadonlyArray<number>
  /** From this time on every request is refused and every answer lost. */
  readonly managerGoneAt?: number | undefined
  /** The caller waits for the acknowledgement of each batch it sends (`AwaitAcknowledgement`). */
  readonly awaitsAcknowledgement?: boolean | undefined
  /** Stop the simulation at this time. */
  readonly horizon: number
  /** Client randomness. */
  readonly seed: number
  /** Makes the machine for this run; the real `BoshSession` when absent. */
  readonly machine?: (() => Machine) | undefined
}

export interface Outcome {
  readonly clientSent: ReadonlyArray<Element.Element>
  readonly clientDelivered: ReadonlyArray<Element.Element>
  readonly manager: CM.ConnectionManager
  readonly state: BoshSession.State
  readonly terminatedAt: number | undefined
  readonly error: BoshError | undefined
  readonly closed: boolean
  readonly requests: ReadonlyArray<{ readonly at: number; readonly rid: number; readonly empty: boolean; readonly pause: boolean }>
  readonly rejected: number
  /** The highest `Acknowledged.upTo` the machine gave (0 when none). */
  readonly acknowledgedUpTo: number
  /** Acknowledgements given for payloads the manager had not received then, or going backwards. */
  readonly falseAcknowledgements: ReadonlyArray<string>
  /** What the machine says the manager may not have, at the end of the run. */
  readonly unacknowledged: ReadonlyArray<Element.Element>
  /**
   * With `awaitsAcknowledgement`: how long each batch waited for its acknowledgement
   * (ms; unacknowledged ones left out), and how many stanzas were still
   * unacknowledged when the caller began to wait (its batch and the backlog before it).
   */
  readonly acknowledgementDelays: ReadonlyArray<{ readonly delay: number; readonly backlog: number }>
}

type Item =
  | { readonly _tag: "ClientSend"; readonly count: number }
  | { readonly _tag: "ServerSend"; readonly count: number }
  | { readonly _tag: "Restart" }
  | { readonly _tag: "Pause"; readonly seconds: number }
  | { readonly _tag: "Resume" }
  | { readonly _tag: "Close" }
  | { readonly _tag: "ClientTick" }
  | { readonly _tag: "ManagerTick" }
  | { readonly _tag: "Arrive"; readonly exchange: number; readonly request: BoshSession.Request }
  | {
    readonly _tag: "Answer"
    readonly rid: number
    readonly attempt: number
    readonly status: number
    readonly reasonPhrase: string
    readonly body: Element.Element | undefined
  }
  | { readonly _tag: "Fail"; readonly rid: number; readonly attempt: number; readonly reason: string }

interface Timed {
  readonly at: number
  readonly seq: number
  readonly item: Item
}

/** A binary heap ordered by time, then insertion. */
class Agenda {
  private readonly heap: Array<Timed> = []
  private seq = 0
  push(at: number, item: Item) {
    const heap = this.heap
    heap.push({ at, seq: this.seq++, item })
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const a = heap[i]
      const b = heap[parent]
      if (a === undefined || b === undefined || !before(a, b)) break
      heap[i] = b
      heap[parent] = a
      i = parent
    }
  }
  pop(): Timed | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    heap[0] = last
    let i = 0
    while (true) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      const hm = () => heap[m]
      const hl = heap[l]
      const hr = heap[r]
      if (hl !== undefined && before(hl, hm() ?? hl)) m = l
      if (hr !== undefined && before(hr, hm() ?? hr)) m = r
      if (m === i) break
      const a = heap[i]
      const b = heap[m]
      if (a === undefined || b === undefined) break
      heap[i] = b
      heap[m] = a
      i = m
    }
    return top
  }
}

const before = (a: Timed, b: Timed) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

const bytesOf = (seed: number, length: number): Uint8Array => {
  const out = new Uint8Array(length)
  let x = (seed | 0) ^ 0x9e3779b9
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 255
  }
  return out
}

export const stanza = (from: "client" | "server", n: number): Element.Element =>
  Element.make("message", {
    namespace: "jabber:client",
    attributes: { id: `${from}-${n}`, to: from === "client" ? "bob@localhost" : "alice@localhost" },
    children: [Element.make("body", { namespace: "jabber:client", children: [`${from} says ${n}`] })]
  })

export const ids = (elements: ReadonlyArray<Element.Element>): Array<string> =>
  elements.filter((e) => e.name === "message").map((e) => Element.attribute(e, "id") ?? "?")

const REQUEST_LATENCY = 5
const RESPONSE_LATENCY = 5
/** The largest latency jitter a scenario draws, per direction (ms). */
export const MAX_JITTER = 100
/** The longest round trip of an exchange the manager answers at once (ms). */
export const MAX_ROUND_TRIP = REQUEST_LATENCY + RESPONSE_LATENCY + 2 * MAX_JITTER

export const run = (scenario: Scenario): Outcome => {
  const agenda = new Agenda()
  const manager = CM.make(scenario.manager)
  const clientSent: Array<Element.Element> = []
  const clientDelivered: Array<Element.Element> = []
  const requests: Array<{ at: number; rid: number; empty: boolean; pause: boolean }> = []
  const faultsPerRid = new Map<number, number>()
  let creationRid: number | undefined
  let exchangeCount = 0
  let clientCount = 0
  let serverCount = 0
  let rejected = 0
  let acknowledgedUpTo = 0
  const falseAcknowledgements: Array<string> = []
  const awaited: Array<{ readonly upTo: number; readonly at: number; readonly backlog: number }> = []
  const acknowledgementDelays: Array<{ readonly delay: number; readonly backlog: number }> = []
  let closed = false
  let terminatedAt: number | undefined
  let scheduledClientTick = Infinity
  let scheduledManagerTick = Infinity

  for (const script of scenario.clientSends) agenda.push(script.at, { _tag: "ClientSend", count: script.count })
  for (const script of scenario.serverSends) agenda.push(script.at, { _tag: "ServerSend", count: script.count })
  if (scenario.restartAt !== undefined) agenda.push(scenario.restartAt, { _tag: "Restart" })
  if (scenario.closeAt !== undefined) agenda.push(scenario.closeAt, { _tag: "Close" })
  if (scenario.pause !== undefined) {
    agenda.push(scenario.pause.at, { _tag: "Pause", seconds: scenario.pause.seconds })
    agenda.push(scenario.pause.at + scenario.pause.resumeAfter, { _tag: "Resume" })
  }

  const jitter = (n: number) => scenario.jitter.length === 0 ? 0 : scenario.jitter[n % scenario.jitter.length] ?? 0
  const gone = (at: number) => scenario.managerGoneAt !== undefined && at >= scenario.managerGoneAt

  const machine: Machine = scenario.machine?.() ?? BoshSession
  const started = machine.make(
    { ...scenario.client, to: "localhost" },
    { rid: bytesOf(scenario.seed, 6), keySeed: bytesOf(scenario.seed + 1, 16) },
    0
  )
  let state = started.state

  // Exchanges in flight: what the fault injector decided for each.
  const exchangeFault = new Map<number, { readonly fault: Fault; readonly rid: number; readonly attempt: number }>()

  const perform = (actions: ReadonlyArray<BoshSession.Action>, now: number) => {
    for (const action of actions) {
      switch (action._tag) {
        case "Request": {
          const exchange = exchangeCount++
          requests.push({
            at: now,
            rid: action.rid,
            empty: action.payloads.length === 0,
            pause: action.attributes.pause !== undefined
          })
          let fault: Fault = scenario.faults[exchange] ?? "none"
          creationRid ??= action.rid
          // Session creation has one short deadline over all its attempts (there is no
          // session to keep yet): a hung creation exchange ends the run by design, so the
          // recoverable fault model leaves hangs out of it.
          if (action.rid === creationRid && (fault === "hang-request" || fault === "hang-response")) fault = "none"
          if (fault !== "none") {
            const used = faultsPerRid.get(action.rid) ?? 0
            if (used >= scenario.maxFaultsPerRid) fault = "none"
            else faultsPerRid.set(action.rid, used + 1)
          }
          const latency = REQUEST_LATENCY + jitter(exchange)
          if (gone(now)) {
            agenda.push(now + latency, { _tag: "Fail", rid: action.rid, attempt: action.attempt, reason: "refused" })
            break
          }
          exchangeFault.set(exchange, { fault, rid: action.rid, attempt: action.attempt })
          switch (fault) {
            case "lose-request":
              agenda.push(now + latency, { _tag: "Fail", rid: action.rid, attempt: action.attempt, reason: "reset" })
              break
            case "hang-request":
              break
            case "http-503":
              agenda.push(now + latency * 2, {
                _tag: "Answer",
                rid: action.rid,
                attempt: action.attempt,
                status: 503,
                reasonPhrase: "Service Unavailable",
                body: undefined
              })
              break
            default:
              agenda.push(now + latency, { _tag: "Arrive", exchange, request: action })
          }
          break
        }
        case "Deliver":
          for (const payload of action.payloads) clientDelivered.push(payload)
          break
        case "Rejected":
          rejected++
          break
        case "Closed":
          closed = true
          terminatedAt = now
          break
        case "Terminated":
          terminatedAt = now
          break
        case "Acknowledged": {
          if (action.upTo < acknowledgedUpTo) falseAcknowledgements.push(`upTo went back from ${acknowledgedUpTo} to ${action.upTo}`)
          acknowledgedUpTo = action.upTo
          while (awaited.length > 0 && (awaited[0]?.upTo ?? Infinity) <= action.upTo) {
            const done = awaited.shift()
            if (done !== undefined) acknowledgementDelays.push({ delay: now - done.at, backlog: done.backlog })
          }
          const received = new Set(ids(manager.forwarded))
          const early = ids(clientSent.slice(0, action.upTo)).filter((id) => !received.has(id))
          if (early.length > 0) falseAcknowledgements.push(`at ${now}: upTo ${action.upTo} while the manager lacks ${early.join(",")}`)
          break
        }
        case "SessionEstablished":
          break
      }
    }
  }

  const answer = (answers: ReadonlyArray<CM.Answer>, now: number) => {
    for (const a of answers) {
      for (const exchange of a.exchanges) {
        const decided = exchangeFault.get(exchange)
        if (decided === undefined) continue
        exchangeFault.delete(exchange)
        const latency = RESPONSE_LATENCY + jitter(exchange + 7)
        const reply = {
          _tag: "Answer" as const,
          rid: a.rid,
          attempt: decided.attempt,
          status: a.status,
          reasonPhrase: a.reasonPhrase,
          body: a.body
        }
        if (gone(now)) continue
        switch (decided.fault) {
          case "lose-response":
            agenda.push(now + latency, { _tag: "Fail", rid: a.rid, attempt: decided.attempt, reason: "reset" })
            break
          case "hang-response":
            break
          case "duplicate-response":
            agenda.push(now + latency, reply)
            agenda.push(now + latency + 40 + jitter(exchange + 3), reply)
            break
          case "delay-response":
            agenda.push(now + latency + 1500 + 10 * jitter(exchange + 11), reply)
            break
          default:
            agenda.push(now + latency, reply)
        }
      }
    }
  }

  const feed = (event: BoshSession.Event, now: number) => {
    if (state._tag === "Terminated") return
    const result = machine.step(state, event, now)
    state = result.state
    perform(result.actions, now)
    // The simulated caller takes every payload at once and waits for more.
    if (result.actions.some((action) => action._tag === "Deliver")) feed(BoshSession.Event.receive(), now)
  }

  const schedule = (now: number) => {
    const clientDeadline = machine.nextDeadline(state)
    if (clientDeadline !== undefined && clientDeadline < scheduledClientTick) {
      scheduledClientTick = Math.max(clientDeadline, now)
      agenda.push(scheduledClientTick, { _tag: "ClientTick" })
    }
    const managerDeadline = CM.nextDeadline(manager)
    if (managerDeadline !== undefined && managerDeadline < scheduledManagerTick) {
      scheduledManagerTick = Math.max(managerDeadline, now)
      agenda.push(scheduledManagerTick, { _tag: "ManagerTick" })
    }
  }

  perform(started.actions, 0)
  feed(BoshSession.Event.receive(), 0)
  schedule(0)
  let steps = 0
  while (true) {
    // A livelock (events at one instant forever) is a failure, not a hang.
    if (++steps > 200_000) throw new Error(`simulation did not settle after ${steps} events`)
    const next = agenda.pop()
    if (next === undefined || next.at > scenario.horizon) break
    const now = next.at
    const item = next.item
    switch (item._tag) {
      case "ClientSend": {
        const batch: Array<Element.Element> = []
        for (let i = 0; i < item.count; i++) batch.push(stanza("client", clientCount++))
        if (state._tag !== "Terminated" && !(state._tag === "Closing")) for (const s of batch) clientSent.push(s)
        feed(BoshSession.Event.send(batch), now)
        if (scenario.awaitsAcknowledgement === true && state._tag !== "Terminated") {
          const upTo = BoshSession.acceptedPayloads(state)
          if (upTo > acknowledgedUpTo) awaited.push({ upTo, at: now, backlog: upTo - acknowledgedUpTo })
          feed(BoshSession.Event.awaitAcknowledgement(upTo), now)
        }
        break
      }
      case "ServerSend": {
        const batch: Array<Element.Element> = []
        for (let i = 0; i < item.count; i++) batch.push(stanza("server", serverCount++))
        if (!gone(now)) answer(CM.push(manager, batch, now), now)
        break
      }
      case "Restart":
        feed(BoshSession.Event.restart(), now)
        break
      case "Pause":
        feed(BoshSession.Event.pause(item.seconds), now)
        break
      case "Resume":
        feed(BoshSession.Event.resume(), now)
        break
      case "Close": {
        const last = stanza("client", clientCount++)
        if (state._tag !== "Terminated" && state._tag !== "Closing") clientSent.push(last)
        feed(BoshSession.Event.close([last]), now)
        break
      }
      case "ClientTick":
        if (now >= scheduledClientTick) {
          scheduledClientTick = Infinity
          feed(BoshSession.Event.tick(), now)
        }
        break
      case "ManagerTick":
        if (now >= scheduledManagerTick) {
          scheduledManagerTick = Infinity
          // Once gone, its answers are lost on the way (see `answer`).
          answer(CM.tick(manager, now), now)
        }
        break
      case "Arrive": {
        if (gone(now)) {
          agenda.push(now + RESPONSE_LATENCY, {
            _tag: "Fail",
            rid: item.request.rid,
            attempt: item.request.attempt,
            reason: "refused"
          })
          break
        }
        answer(CM.receive(manager, item.exchange, item.request, now), now)
        break
      }
      case "Answer":
        feed({
          _tag: "HttpResponse",
          rid: item.rid,
          status: item.status,
          reasonPhrase: item.reasonPhrase,
          body: item.body,
          attempt: item.attempt
        }, now)
        break
      case "Fail":
        feed({ _tag: "HttpFailed", rid: item.rid, reason: item.reason, attempt: item.attempt }, now)
        break
    }
    schedule(now)
  }
  return {
    clientSent,
    clientDelivered,
    manager,
    state,
    terminatedAt,
    error: state._tag === "Terminated" ? state.error : undefined,
    closed,
    requests,
    rejected,
    acknowledgedUpTo,
    falseAcknowledgements,
    unacknowledged: BoshSession.unacknowledged(state),
    acknowledgementDelays
  }
}
