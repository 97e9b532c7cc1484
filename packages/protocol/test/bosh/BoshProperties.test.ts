/**
 * The product's promise, as properties of the machine against a faulty
 * simulated connection manager (deterministic discrete-event simulation on a
 * simulated clock). fast-check prints the seed and the shrunk scenario on failure.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { awaitingAcknowledgements, scenario } from "./Arbitraries.js"
import {
  acknowledgedPromptly,
  acknowledgementsExact,
  clientToServerExactlyOnce,
  noPolicyViolation,
  serverToClientExactlyOnce,
  survived
} from "./Properties.js"
import { ids, type Outcome, run, type Scenario } from "./Simulation.js"

const RUNS = 1000

const explain = (s: Scenario, outcome: Outcome) =>
  JSON.stringify({
    error: outcome.error?.message,
    violations: outcome.manager.violations,
    terminations: outcome.manager.terminations,
    sent: ids(outcome.clientSent).length,
    forwarded: ids(outcome.manager.forwarded).length,
    delivered: ids(outcome.clientDelivered).length,
    managerDelivered: ids(outcome.manager.delivered).length,
    closeAt: s.closeAt,
    acknowledgedUpTo: outcome.acknowledgedUpTo,
    falseAcknowledgements: outcome.falseAcknowledgements.slice(0, 3),
    unacknowledged: ids(outcome.unacknowledged)
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

  it("6. acknowledgements: never before the manager has the payload; the rest handed back exactly", () => {
    fc.assert(
      fc.property(scenario({ faults: true }), (s) => {
        const outcome = run(s)
        if (!acknowledgementsExact(outcome)) throw new Error(explain(s, outcome))
      }),
      { numRuns: RUNS }
    )
  }, 60_000)

  it("6. … also when the manager goes away and the session ends with an error", () => {
    let ended = 0
    fc.assert(
      fc.property(scenario({ faults: true }), fc.integer({ min: 0, max: 60_000 }), (s, goneAt) => {
        const outcome = run({ ...s, closeAt: undefined, managerGoneAt: goneAt, horizon: 1_000_000 })
        if (outcome.error !== undefined && outcome.unacknowledged.length > 0) ended++
        if (!acknowledgementsExact(outcome)) throw new Error(explain(s, outcome))
      }),
      { numRuns: 300 }
    )
    // The runs do end with stanzas handed back, or the property proved little.
    assert.isAbove(ended, 30)
  }, 60_000)

  it("7. a caller waiting for an acknowledgement gets it within the round trips its payloads need, not after a held `wait`", () => {
    let awaited = 0
    fc.assert(
      fc.property(awaitingAcknowledgements, (s) => {
        const outcome = run(s)
        awaited += outcome.acknowledgementDelays.length
        const ok = acknowledgedPromptly(s, outcome) && acknowledgementsExact(outcome) && noPolicyViolation(outcome) &&
          survived(s, outcome)
        if (!ok) throw new Error(`${explain(s, outcome)} delays=${outcome.acknowledgementDelays.map((a) => `${a.delay}/${a.backlog}`).join(",")}`)
      }),
      { numRuns: RUNS }
    )
    assert.isAbove(awaited, RUNS)
  }, 60_000)

  it("1–3 with a pause (§10) in the run, without faults", () => {
    fc.assert(
      fc.property(scenario({ faults: false, pause: true }), (s) => {
        const outcome = run(s)
        const ok = clientToServerExactlyOnce(outcome) && serverToClientExactlyOnce(outcome) &&
          noPolicyViolation(outcome) && survived(s, outcome)
        if (!ok) throw new Error(explain(s, outcome))
      }),
      { numRuns: 300 }
    )
  }, 60_000)

  it("1–3 with a pause (§10) in the run, with faults", () => {
    fc.assert(
      fc.property(scenario({ faults: true, pause: true }), (s) => {
        const outcome = run(s)
        const ok = clientToServerExactlyOnce(outcome) && serverToClientExactlyOnce(outcome) &&
          noPolicyViolation(outcome) && survived(s, outcome)
        if (!ok) throw new Error(explain(s, outcome))
      }),
      { numRuns: 300 }
    )
  }, 60_000)

  it("sanity: in the pause runs, most pauses are sent (the others are refused as too short)", () => {
    const samples = fc.sample(scenario({ faults: true, pause: true }), { numRuns: 200, seed: 42 })
    const withPause = samples.filter((s) => s.pause !== undefined)
    const paused = withPause.filter((s) => run(s).requests.some((r) => r.pause)).length
    assert.isAbove(withPause.length, 50)
    assert.isAbove(paused, withPause.length / 3)
  })

  it("sanity: the generated runs do carry traffic", () => {
    const samples = fc.sample(scenario({ faults: true }), { numRuns: 50, seed: 42 })
    const traffic = samples.map((s) => run(s)).reduce((n, o) => n + ids(o.manager.forwarded).length, 0)
    assert.isAbove(traffic, 100)
  })
})
