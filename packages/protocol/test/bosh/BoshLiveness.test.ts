/**
 * Properties 4 and 5: the session never hangs when the manager is gone, and
 * an idle session keeps exactly `hold` requests waiting without polling faster
 * than allowed. Plus the proof that properties 1–3 can fail: each runs against
 * a deliberately broken variant of the machine (`BrokenMachines`, wrappers
 * kept in test code) and must find a counterexample.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { awaitingAcknowledgements, manager, scenario } from "./Arbitraries.js"
import {
  acknowledgedPromptly,
  acknowledgementsExact,
  clientToServerExactlyOnce,
  noPolicyViolation,
  serverToClientExactlyOnce
} from "./Properties.js"
import { type Broken, broken } from "./BrokenMachines.js"
import { run, type Scenario } from "./Simulation.js"

describe("BOSH liveness", () => {
  it("4. when the manager is gone, the session ends with a typed error within a bounded time", () => {
    fc.assert(
      fc.property(
        scenario({ faults: true }),
        fc.integer({ min: 0, max: 150_000 }),
        (s, goneAt) => {
          const outcome = run({ ...s, closeAt: undefined, managerGoneAt: goneAt, horizon: 1_000_000 })
          // Five attempts, each at most wait + margin, with backoff 0.5+1+2+4 s in between,
          // after at most one more full wait for the request already out.
          const waitMs = s.manager.wait * 1000 + 5000
          const bound = goneAt + 6 * waitMs + 7_500 + 1000
          if (outcome.error === undefined || outcome.terminatedAt === undefined || outcome.terminatedAt > bound) {
            throw new Error(
              `error=${outcome.error?.reason} at=${outcome.terminatedAt} bound=${bound} state=${outcome.state._tag}`
            )
          }
          // A typed error with a reason the caller can match.
          assert.include(["connection-manager-unreachable", "item-not-found"], outcome.error.reason)
        }
      ),
      { numRuns: 300 }
    )
  }, 60_000)

  it("5. idle: exactly `hold` requests wait at the manager, and empty polls respect `polling`", () => {
    fc.assert(
      fc.property(manager, fc.integer(), (config, seed) => {
        const s: Scenario = {
          manager: config,
          client: { wait: config.wait, hold: Math.max(1, config.hold) },
          clientSends: [{ at: 1000, count: 2 }],
          serverSends: [{ at: 2000, count: 2 }],
          faults: [],
          maxFaultsPerRid: 0,
          jitter: [3],
          horizon: 600_000,
          seed
        }
        const outcome = run(s)
        assert.deepStrictEqual(outcome.manager.violations, [])
        // From 10 s on, the held count is `hold` except for the round trip after each answer.
        const log = outcome.manager.heldLog.filter(([at]) => at >= 10_000)
        for (let i = 0; i < log.length; i++) {
          const entry = log[i]
          if (entry === undefined) continue
          const [at, held] = entry
          if (held === config.hold) continue
          const next = log[i + 1]
          const lasted = (next?.[0] ?? s.horizon) - at
          // Polling sessions (hold 0) never hold; others refill within a round trip, or as
          // soon as `polling` (+ the 250 ms jitter margin) after the previous empty poll allows
          // (with hold 1 that only bites when `wait` is shorter; with hold 2 the two polls
          // are kept `polling` apart).
          const allowed = config.hold > 1 || config.wait * 1000 < config.polling * 1000 + 250
            ? config.polling * 1000 + 300
            : 50
          if (config.hold > 0) assert.isAtMost(lasted, allowed, `held ${held} for ${lasted} ms at ${at}`)
        }
        // Empty polls are never closer than `polling` when the manager held nothing else.
        const polls = outcome.requests.filter((r) => r.empty)
        const idleSpan = s.horizon - 10_000
        const expected = config.hold === 0
          ? idleSpan / (config.polling * 1000) + 2
          : config.hold * (idleSpan / (config.wait * 1000) + 2)
        assert.isAtMost(polls.filter((r) => r.at >= 10_000).length, expected)
      }),
      { numRuns: 200 }
    )
  }, 60_000)
})

describe("the properties can fail (broken machines)", () => {
  const findsCounterexample = (
    variant: Broken,
    holds: (s: Scenario) => boolean,
    scenarios: fc.Arbitrary<Scenario>
  ) => {
    const details = fc.check(
      fc.property(
        scenarios.map((s): Scenario => ({ ...s, machine: () => broken(variant) })),
        (s) => {
          try {
            return holds(s)
          } catch {
            return false
          }
        }
      ),
      { numRuns: 1000, seed: 4242 }
    )
    assert.isTrue(details.failed, `no counterexample found for ${variant}`)
    return details.counterexample
  }

  it("delivery in arrival order breaks property 2", () => {
    findsCounterexample("deliver-in-arrival-order", (s) => serverToClientExactlyOnce(run(s)), scenario({ faults: true }))
  }, 60_000)

  it("a resend with a new rid breaks property 1", () => {
    findsCounterexample("resend-with-new-rid", (s) => clientToServerExactlyOnce(run(s)), scenario({ faults: true }))
  }, 60_000)

  it("acknowledging every payload sent on any answer breaks property 6", () => {
    findsCounterexample("acknowledge-everything-sent", (s) => acknowledgementsExact(run(s)), scenario({ faults: true }))
  }, 60_000)

  it("ignoring a caller that waits for an acknowledgement breaks property 7", () => {
    findsCounterexample("ignore-awaited-acknowledgement", (s) => acknowledgedPromptly(s, run(s)), awaitingAcknowledgements)
  }, 60_000)

  it("an empty request too early breaks property 3", () => {
    findsCounterexample("eager-empty-requests", (s) => noPolicyViolation(run(s)), scenario({ faults: false }))
  }, 60_000)
})
