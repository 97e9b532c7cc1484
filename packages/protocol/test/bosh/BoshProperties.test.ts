/**
 * The product's promise, as properties of the machine against a faulty
 * simulated connection manager (deterministic discrete-event simulation on a
 * simulated clock). fast-check prints the seed and the shrunk scenario on failure.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { scenario } from "./Arbitraries.js"
import { ids, type Outcome, run, type Scenario } from "./Simulation.js"

const RUNS = 1000

/** Property 1: every stanza the client sent reached the server exactly once, in order. */
export const clientToServerExactlyOnce = (outcome: Outcome): boolean => {
  const sent = ids(outcome.clientSent)
  const forwarded = ids(outcome.manager.forwarded)
  return sent.length === forwarded.length && sent.every((id, i) => forwarded[i] === id)
}

/**
 * Property 2: every stanza the server sent reached the client exactly once, in order.
 *
 * One exception, the limit of the protocol itself: once the client's terminate
 * went through, the manager forgets the session, so a response lost just before
 * can no longer be fetched again (its resend gets item-not-found). Then the client
 * must still have got a duplicate-free, in-order prefix.
 */
export const serverToClientExactlyOnce = (outcome: Outcome): boolean => {
  const delivered = ids(outcome.clientDelivered)
  const sent = ids(outcome.manager.delivered)
  const inOrder = delivered.every((id, i) => sent[i] === id)
  const forgotten = outcome.closed &&
    outcome.manager.terminations.some((t) => t.includes("ended session (closed by the client)"))
  if (forgotten) return inOrder && delivered.length <= sent.length
  const drained = outcome.closed || outcome.manager.outbox.length === 0
  return drained && inOrder && delivered.length === sent.length
}

/** Property 3: the manager never had to say policy-violation (nor any other rule break). */
export const noPolicyViolation = (outcome: Outcome): boolean => outcome.manager.violations.length === 0

/** The session survived the recoverable faults (or closed cleanly when asked to). */
export const survived = (s: Scenario, outcome: Outcome): boolean =>
  outcome.error === undefined && (s.closeAt === undefined ? outcome.state._tag !== "Terminated" : outcome.closed)

const explain = (s: Scenario, outcome: Outcome) =>
  JSON.stringify({
    error: outcome.error?.message,
    violations: outcome.manager.violations,
    terminations: outcome.manager.terminations,
    sent: ids(outcome.clientSent).length,
    forwarded: ids(outcome.manager.forwarded).length,
    delivered: ids(outcome.clientDelivered).length,
    managerDelivered: ids(outcome.manager.delivered).length,
    closeAt: s.closeAt
  })

describe("BOSH session properties (simulated connection manager, injected faults)", () => {
  it("1. client → server: every stanza exactly once, in order", () => {
    fc.assert(
      fc.property(scenario({ faults: true }), (s) => {
        const outcome = run(s)
        if (!clientToServerExactlyOnce(outcome) || !survived(s, outcome)) throw new Error(explain(s, outcome))
      }),
      { numRuns: RUNS }
    )
  }, 60_000)

  it("2. server → client: every stanza exactly once, in order", () => {
    fc.assert(
      fc.property(scenario({ faults: true }), (s) => {
        const outcome = run(s)
        if (!serverToClientExactlyOnce(outcome) || !survived(s, outcome)) throw new Error(explain(s, outcome))
      }),
      { numRuns: RUNS }
    )
  }, 60_000)

  it("3. the client never breaks the manager's rules", () => {
    fc.assert(
      fc.property(scenario({ faults: true }), (s) => {
        const outcome = run(s)
        if (!noPolicyViolation(outcome)) throw new Error(explain(s, outcome))
      }),
      { numRuns: RUNS }
    )
  }, 60_000)

  it("sanity: the generated runs do carry traffic", () => {
    const samples = fc.sample(scenario({ faults: true }), { numRuns: 50, seed: 42 })
    const traffic = samples.map((s) => run(s)).reduce((n, o) => n + ids(o.manager.forwarded).length, 0)
    assert.isAbove(traffic, 100)
  })
})
