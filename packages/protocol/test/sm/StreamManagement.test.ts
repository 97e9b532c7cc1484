/**
 * The XEP-0198 client machine, step by step: enabling, counting, batched
 * requests, the server's requests, checks on its `h`, deadlines, resumption
 * and what comes back when a session cannot go on.
 */
import { assert, describe, it } from "@effect/vitest"
import { Element, HandledCount, Namespaces, StreamManagement } from "@xmpp-core/protocol"

const SM = Namespaces.STREAM_MANAGEMENT
const sm = (name: string, attributes: Record<string, string> = {}) => Element.make(name, { namespace: SM, attributes })
const message = (id: string) => Element.make("message", { namespace: Namespaces.JABBER_CLIENT, attributes: { id } })

const options: StreamManagement.Options = { ...StreamManagement.defaults, requestEvery: 3, ackTimeoutMs: 1_000 }

/** Runs events in order; returns the last state and every action, each as a short string. */
const run = (start: StreamManagement.Step, events: ReadonlyArray<StreamManagement.Event>, now = 0) => {
  let state = start.state
  const seen: Array<string> = start.actions.map(show)
  for (const event of events) {
    const next = StreamManagement.step(state, event, now)
    state = next.state
    seen.push(...next.actions.map(show))
  }
  return { state, seen }
}

function show(action: StreamManagement.Action): string {
  switch (action._tag) {
    case "Write": {
      const attributes = Object.entries(action.element.attributes).map(([k, v]) => ` ${k}=${v}`).join("")
      return `write ${action.element.name}${attributes}`
    }
    case "Accepted":
      return `accepted ${action.seq}`
    case "Refused":
      return `refused ${action.error.reason}`
    case "Acknowledged":
      return `acked ${action.upTo}`
    case "Resume":
      return `resume ${action.previd}`
    case "Resumed":
      return "resumed"
    case "LinkDead":
      return `dead ${action.error.reason}`
    case "Unacknowledged":
      return `back ${action.stanzas.map((s) => s.seq).join(",")} ${action.error.reason}`
    case "ProtocolError":
      return `protocol-error ${action.error.reason}`
  }
}

const send = (id: string): StreamManagement.Event => ({ _tag: "Send", element: message(id) })
const received = (element: Element.Element): StreamManagement.Event => ({ _tag: "Received", element })
const enabled = received(sm("enabled", { id: "s1", resume: "true", max: "60" }))
const flush: StreamManagement.Event = { _tag: "Flush" }

describe("StreamManagement", () => {
  it("asks for a resumable session; stanzas handed over before <enabled/> go out after it, then one <r/>", () => {
    const { seen, state } = run(StreamManagement.make(options, 0), [send("a"), send("b"), flush, enabled])
    assert.deepStrictEqual(seen, [
      "write enable resume=true",
      "accepted 0",
      "accepted 1",
      "write message id=a",
      "write message id=b",
      "write r"
    ])
    assert.strictEqual(state._tag, "Enabled")
  })

  it("an <a/> acknowledges the oldest stanzas; the rest stays for resending", () => {
    const { seen, state } = run(StreamManagement.make(options, 0), [enabled, send("a"), send("b"), flush, received(sm("a", { h: "1" }))])
    assert.deepStrictEqual(seen.slice(-2), ["write r", "acked 0"])
    assert.deepStrictEqual(StreamManagement.unacknowledged(state).map((s) => s.seq), [1])
  })

  it("requests are batched: one <r/> per requestEvery stanzas, never two out at once; the burst's tail after the answer", () => {
    const sends = Array.from({ length: 8 }, (_, i) => send(`m${i}`))
    const { seen } = run(StreamManagement.make(options, 0), [enabled, ...sends, flush, received(sm("a", { h: "3" }))])
    assert.strictEqual(seen.filter((s) => s === "write r").length, 2)
    // The first after 3 stanzas; none at 6 (one is out), none at the flush; the answer asks for the tail.
    assert.deepStrictEqual(seen.slice(-2), ["acked 2", "write r"])
  })

  it("a deferred burst tail is asked for within requestDelayMs: sends one by one share one <r/>", () => {
    const deferred: StreamManagement.Event = { _tag: "Flush", deferred: true }
    const started = StreamManagement.make({ ...options, requestEvery: 100, requestDelayMs: 100 }, 0)
    let step = StreamManagement.step(started.state, enabled, 0)
    const writes: Array<string> = []
    // Five stanzas, each its own burst, 10 ms apart: no <r/> yet, one due 100 ms after the first burst ended.
    for (let i = 0; i < 5; i++) {
      for (const event of [send(`m${i}`), deferred]) {
        step = StreamManagement.step(step.state, event, i * 10)
        writes.push(...step.actions.map(show).filter((s) => s === "write r"))
      }
    }
    assert.deepStrictEqual(writes, [])
    assert.strictEqual(StreamManagement.nextDeadline(step.state), 100)
    assert.isFalse(StreamManagement.awaitsAnswer(step.state))
    step = StreamManagement.step(step.state, { _tag: "Tick" }, 100)
    assert.deepStrictEqual(step.actions.map(show), ["write r"])
    assert.isTrue(StreamManagement.awaitsAnswer(step.state))
    // A caller waiting for an acknowledgement does not wait for the delay.
    step = StreamManagement.step(step.state, received(sm("a", { h: "5" })), 110)
    step = StreamManagement.step(step.state, send("now"), 120)
    step = StreamManagement.step(step.state, flush, 120)
    assert.deepStrictEqual(step.actions.map(show), ["write r"])
  })

  it("answers the server's <r/> with the stanzas received since <enabled/>, and only stanzas count", () => {
    const { seen } = run(StreamManagement.make(options, 0), [
      received(message("before-enabled")),
      enabled,
      received(message("x")),
      received(Element.make("presence", { namespace: Namespaces.JABBER_CLIENT })),
      received(sm("a", { h: "0" })),
      received(Element.make("features", { namespace: Namespaces.STREAMS })),
      received(sm("r"))
    ])
    assert.strictEqual(seen.at(-1), "write a h=2")
  })

  it("an <a/> for more than was sent is a protocol error, and every unacknowledged stanza comes back", () => {
    const { seen, state } = run(StreamManagement.make(options, 0), [enabled, send("a"), send("b"), received(sm("a", { h: "5" }))])
    assert.deepStrictEqual(seen.slice(-2), ["protocol-error handled-count-too-high", "back 0,1 handled-count-too-high"])
    assert.strictEqual(state._tag, "Off")
  })

  it("counts wrap at 2^32: an <a/> past the wrap acknowledges the right stanzas", () => {
    let step = StreamManagement.make(options, 0)
    step = StreamManagement.step(step.state, enabled, 0)
    // Put the server's count three short of the wrap, as after 2^32 - 3 acknowledged stanzas.
    if (step.state._tag === "Enabled") step.state.session.acked = HandledCount.MODULUS - 3
    const { seen, state } = run(step, [send("a"), send("b"), send("c"), send("d"), send("e"), received(sm("a", { h: "1" }))])
    assert.strictEqual(seen.at(-1), "acked 3")
    assert.deepStrictEqual(StreamManagement.unacknowledged(state).map((s) => s.seq), [4])
  })

  it("no <a/> within ackTimeoutMs of an <r/>: the link is dead (and nextDeadline says when)", () => {
    const started = run(StreamManagement.make(options, 0), [enabled, send("a"), flush])
    assert.strictEqual(StreamManagement.nextDeadline(started.state), 1_000)
    assert.deepStrictEqual(StreamManagement.step(started.state, { _tag: "Tick" }, 999).actions, [])
    const due = StreamManagement.step(started.state, { _tag: "Tick" }, 1_000)
    assert.deepStrictEqual(due.actions.map(show), ["dead ack-timeout"])
  })

  it("with idleRequestMs, a silent server is asked after that long", () => {
    const started = run(StreamManagement.make({ ...options, idleRequestMs: 5_000 }, 0), [enabled])
    assert.strictEqual(StreamManagement.nextDeadline(started.state), 5_000)
    assert.deepStrictEqual(StreamManagement.step(started.state, { _tag: "Tick" }, 5_000).actions.map(show), ["write r"])
  })

  it("a lost link resumes: stanzas sent meanwhile wait; <resumed h/> acknowledges and what the server lacks goes again", () => {
    const { seen, state } = run(StreamManagement.make(options, 0), [
      enabled,
      send("a"),
      send("b"),
      { _tag: "LinkLost" },
      send("c"),
      { _tag: "Reconnected" },
      received(sm("resumed", { previd: "s1", h: "1" }))
    ])
    assert.deepStrictEqual(seen.slice(5), [
      "resume s1",
      "accepted 2",
      "write resume previd=s1 h=0",
      "acked 0",
      "write message id=b",
      "write message id=c",
      "resumed",
      "write r"
    ])
    assert.strictEqual(state._tag, "Enabled")
  })

  it("a refused resumption with h hands back exactly what the server lacks, in order", () => {
    const { seen, state } = run(StreamManagement.make(options, 0), [
      enabled,
      send("a"),
      send("b"),
      send("c"),
      { _tag: "LinkLost" },
      { _tag: "Reconnected" },
      received(Element.make("failed", { namespace: SM, attributes: { h: "1" }, children: [Element.make("item-not-found", { namespace: Namespaces.STANZAS })] }))
    ])
    assert.deepStrictEqual(seen.slice(-2), ["acked 0", "back 1,2 resume-failed"])
    assert.strictEqual(state._tag === "Off" ? state.error.condition : undefined, "item-not-found")
  })

  it("a session the server would not make resumable hands everything unacknowledged back when the link is lost", () => {
    const { seen } = run(StreamManagement.make(options, 0), [
      received(sm("enabled", { id: "s1" })),
      send("a"),
      { _tag: "LinkLost" }
    ])
    assert.strictEqual(seen.at(-1), "back 0 not-resumable")
  })

  it("no expiry of its own: past the server's max the <resume/> still goes, and only Abandon hands everything back", () => {
    const lost = run(StreamManagement.make(options, 0), [enabled, send("a"), { _tag: "LinkLost" }])
    assert.strictEqual(StreamManagement.maxResumeSeconds(lost.state), 60)
    assert.isUndefined(StreamManagement.nextDeadline(lost.state))
    const late = StreamManagement.step(lost.state, { _tag: "Reconnected" }, 120_000)
    assert.deepStrictEqual(late.actions.map(show), ["write resume previd=s1 h=0"])
    assert.deepStrictEqual(StreamManagement.step(late.state, { _tag: "Abandon" }, 120_000).actions.map(show), ["back 0 abandoned"])
  })

  it("the queue is bounded: a send past maxUnacked is refused, typed", () => {
    const { seen } = run(StreamManagement.make({ ...options, maxUnacked: 2 }, 0), [enabled, send("a"), send("b"), send("c")])
    assert.strictEqual(seen.at(-1), "refused queue-full")
  })

  it("a refused <enable/> hands back the stanzas that were waiting for it, never written", () => {
    const { seen } = run(StreamManagement.make(options, 0), [send("a"), received(sm("failed"))])
    assert.deepStrictEqual(seen, ["write enable resume=true", "accepted 0", "back 0 enable-failed"])
  })
})
