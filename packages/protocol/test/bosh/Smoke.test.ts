import { assert, describe, it } from "@effect/vitest"
import { ids, run } from "./Simulation.js"

describe("smoke", () => {
  it("runs", () => {
    const outcome = run({
      manager: { wait: 20, hold: 1, requests: 2, polling: 2, inactivity: 30, enforceKeys: true, acknowledgements: true },
      client: { wait: 20, timeoutMarginMs: 5000 },
      clientSends: [{ at: 100, count: 3 }, { at: 101, count: 2 }, { at: 5000, count: 1 }],
      serverSends: [{ at: 200, count: 2 }, { at: 30000, count: 4 }],
      restartAt: 50,
      closeAt: 60000,
      faults: ["none", "none", "lose-response", "duplicate-response", "delay-response", "hang-request"],
      maxFaultsPerRid: 2,
      jitter: [0, 50, 20, 90],
      horizon: 200000,
      seed: 7
    })
    console.log(outcome.manager.violations, outcome.manager.terminations, outcome.error, outcome.closed, outcome.requests.length)
    assert.deepStrictEqual(ids(outcome.manager.forwarded), ids(outcome.clientSent))
    assert.deepStrictEqual(ids(outcome.clientDelivered), ids(outcome.manager.delivered))
  })
})
