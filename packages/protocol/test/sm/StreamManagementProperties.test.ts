/**
 * Properties of the XEP-0198 machine against a simulated server with a link
 * that dies, goes silent or loses the session (SmSimulation): what either
 * caller handed over arrives once and in order across resumptions; a
 * refused resumption hands back exactly what the server lacks; only a server
 * that forgot the session (a restart) can cause a duplicate, and then never
 * a loss. Two deliberately broken machines (wrappers kept here) must fail.
 */
import { assert, describe, it } from "@effect/vitest"
import { Element, Namespaces, StreamManagement } from "@xmpp-core/protocol"
import * as fc from "fast-check"
import { type Op, simulate, type Stepper } from "./SmSimulation.js"

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ _tag: "ClientSend" } as const) },
  { weight: 20, arbitrary: fc.constant({ _tag: "ServerSend" } as const) },
  { weight: 8, arbitrary: fc.constant({ _tag: "Flush" } as const) },
  { weight: 4, arbitrary: fc.constant({ _tag: "Flush", deferred: true } as const) },
  { weight: 30, arbitrary: fc.constant({ _tag: "DeliverToServer" } as const) },
  { weight: 30, arbitrary: fc.constant({ _tag: "DeliverToClient" } as const) },
  { weight: 4, arbitrary: fc.constant({ _tag: "ServerRequest" } as const) },
  { weight: 3, arbitrary: fc.constant({ _tag: "Kill" } as const) },
  { weight: 2, arbitrary: fc.constant({ _tag: "BlackHole" } as const) },
  { weight: 1, arbitrary: fc.constant({ _tag: "Expire" } as const) },
  { weight: 3, arbitrary: fc.integer({ min: 100, max: 12_000 }).map((ms) => ({ _tag: "Advance", ms }) as const) }
)
const withRestarts: fc.Arbitrary<Op> = fc.oneof(
  { weight: 40, arbitrary: op },
  { weight: 1, arbitrary: fc.constant({ _tag: "Restart" } as const) }
)

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`)

/** Each expected id at least once, first occurrences in order, nothing else. */
const atLeastOnceInOrder = (got: ReadonlyArray<string>, expected: ReadonlyArray<string>) => {
  const first = [...new Set(got)]
  return first.length === expected.length && first.every((id, i) => id === expected[i])
}
const exactlyOnceInOrder = (got: ReadonlyArray<string>, expected: ReadonlyArray<string>) =>
  got.length === expected.length && got.every((id, i) => id === expected[i])

/** The promise, for one run. */
const holds = (ops: ReadonlyArray<Op>, stepper?: Stepper): boolean => {
  const outcome = simulate(ops, stepper)
  const sent = ids("c", outcome.clientSent)
  const pushed = ids("s-", outcome.serverSent)
  if (outcome.protocolErrors.length > 0) return false
  // Unless the server forgot everything, a hand-back is exactly what the server's caller lacks.
  for (const back of outcome.handBacks) {
    if (outcome.restarts === 0) {
      if (back.returned.length !== back.lacked.length || back.returned.some((id, i) => id !== back.lacked[i])) return false
    }
  }
  if (outcome.restarts > 0) return atLeastOnceInOrder(outcome.serverGot, sent) && atLeastOnceInOrder(outcome.clientGot, pushed)
  return exactlyOnceInOrder(outcome.serverGot, sent) && exactlyOnceInOrder(outcome.clientGot, pushed)
}

const runs = fc.array(op, { minLength: 30, maxLength: 300, size: "max" })
const runsWithRestarts = fc.array(withRestarts, { minLength: 30, maxLength: 300, size: "max" })

// Broken on purpose: after <resumed/>, the stanzas the server lacks are not written again.
const noResend: Stepper = (state, event, now) => {
  const next = StreamManagement.step(state, event, now)
  const resumed = next.actions.some((a) => a._tag === "Resumed")
  return resumed
    ? { ...next, actions: next.actions.filter((a) => !(a._tag === "Write" && a.element.namespace === Namespaces.JABBER_CLIENT)) }
    : next
}

// Broken on purpose: every stream-management element from the server is counted as a stanza too.
const countsEverything: Stepper = (state, event, now) => {
  const next = StreamManagement.step(state, event, now)
  if (
    event._tag === "Received" && event.element.namespace === Namespaces.STREAM_MANAGEMENT && next.state._tag === "Enabled" &&
    state._tag === "Enabled"
  ) {
    next.state.session.inbound = (next.state.session.inbound + 1) % 2 ** 32
  }
  return next
}

describe("StreamManagement properties (simulated server, faulty link)", () => {
  it("exactly once, in order, both ways, across kills, black holes and resumptions; a refused resumption hands back exactly what is missing", () => {
    fc.assert(fc.property(runs, (ops) => holds(ops)), { numRuns: Number(process.env.SM_RUNS ?? 500) })
  })

  it("a server restart (it forgets the session) may duplicate, never lose, never reorder", () => {
    fc.assert(fc.property(runsWithRestarts, (ops) => holds(ops)), { numRuns: 300 })
  })

  it("the runs do exercise resumption, refusals and black holes", () => {
    let resumed = 0
    let handedBack = 0
    let delivered = 0
    fc.assert(
      fc.property(runs, (ops) => {
        const outcome = simulate(ops)
        if (ops.some((o) => o._tag === "Kill" || o._tag === "BlackHole")) resumed++
        if (outcome.handBacks.some((b) => b.reason === "resume-failed" && b.returned.length > 0)) handedBack++
        delivered += outcome.serverGot.length + outcome.clientGot.length
        return true
      }),
      { numRuns: 300 }
    )
    assert.isAbove(resumed, 250)
    assert.isAbove(handedBack, 20)
    assert.isAbove(delivered / 300, 30, "stanzas per run")
  })

  it("a machine that does not resend after <resumed/> is caught", () => {
    const result = fc.check(fc.property(runs, (ops) => holds(ops, noResend)), { numRuns: 500 })
    assert.isTrue(result.failed, "the properties missed a machine that loses stanzas on resumption")
  })

  it("a machine that counts non-stanzas into its h is caught", () => {
    const result = fc.check(fc.property(runs, (ops) => holds(ops, countsEverything)), { numRuns: 500 })
    assert.isTrue(result.failed, "the properties missed a machine whose h is too high")
  })

  it("a stanza element is what the machine counts (sanity of the broken variant's premise)", () => {
    const step = StreamManagement.make({ ...StreamManagement.defaults }, 0)
    const enabled = StreamManagement.step(step.state, {
      _tag: "Received",
      element: Element.make("enabled", { namespace: Namespaces.STREAM_MANAGEMENT, attributes: { id: "x", resume: "true" } })
    }, 0)
    const after = StreamManagement.step(enabled.state, {
      _tag: "Received",
      element: Element.make("r", { namespace: Namespaces.STREAM_MANAGEMENT })
    }, 0)
    assert.strictEqual(StreamManagement.inboundCount(after.state), 0)
  })
})
