/**
 * Shrunk counterexamples the properties found while the machine was being
 * written, kept as named regression tests (each scenario is the shrunk one).
 */
import { assert, describe, it } from "@effect/vitest"
import { clientToServerExactlyOnce, noPolicyViolation, serverToClientExactlyOnce, survived } from "./Properties.js"
import type { Scenario } from "./Simulation.js"
import { run } from "./Simulation.js"

const base: Omit<Scenario, "manager" | "client"> = {
  clientSends: [],
  serverSends: [],
  restartAt: undefined,
  closeAt: undefined,
  faults: [],
  maxFaultsPerRid: 2,
  jitter: [0],
  horizon: 400_000,
  seed: 0
}

const manager = { hold: 1, requests: 2, wait: 4, polling: 1, inactivity: 38, maxpause: 120 }

const holdsAll = (s: Scenario) => {
  const outcome = run(s)
  assert.deepStrictEqual(outcome.manager.violations, [])
  assert.isTrue(noPolicyViolation(outcome))
  assert.isTrue(clientToServerExactlyOnce(outcome), "client → server")
  assert.isTrue(serverToClientExactlyOnce(outcome), "server → client")
  assert.isTrue(survived(s, outcome), `ended with ${outcome.error?.reason}`)
}

describe("BOSH regressions (shrunk counterexamples)", () => {
  it("a restart with its short deadline waits behind a lost poll: the poll is resent with it", () => {
    // The poll before the restart never reached the manager, which takes rids in order, so the
    // restart (10 s per attempt) went unanswered five times while the poll waited for its own
    // wait + margin; the session died. A restart that times out now resends what is before it.
    holdsAll({
      ...base,
      manager: { hold: 2, requests: 3, wait: 22, polling: 1, inactivity: 74, maxpause: 120 },
      client: { wait: 22, hold: 2 },
      serverSends: [{ at: 0, count: 1 }],
      restartAt: 23_281,
      faults: ["none", "none", "none", "duplicate-response", "duplicate-response", "hang-request", "lose-request"]
    })
  })

  it("a restart overtaking a lost empty poll is not an early empty poll", () => {
    // The restart went out while the empty poll before it hung; the poll's resend reached the
    // manager after the restart. Counting the restart as a poll made the pair look too fast.
    holdsAll({
      ...base,
      manager,
      client: { wait: 4, hold: 1 },
      restartAt: 11,
      faults: ["duplicate-response", "hang-request"]
    })
  })

  it("a terminate whose answer was lost is not an error when its resend finds the session gone", () => {
    holdsAll({
      ...base,
      manager: { ...manager, wait: 16, inactivity: 62, conditionInReasonPhrase: true },
      client: { wait: 16, hold: 1 },
      closeAt: 100_000,
      faults: ["none", "duplicate-response", "none", "none", "none", "none", "hang-response"]
    })
  })

  it("an empty poll lost after the manager answered it, then the close: the session still closes cleanly", () => {
    holdsAll({
      ...base,
      manager: { ...manager, wait: 18, inactivity: 66, conditionInReasonPhrase: true },
      client: { wait: 18, hold: 1 },
      closeAt: 100_000,
      faults: ["hang-response", "duplicate-response", "none", "none", "lose-response", "hang-request", "lose-response"]
    })
  })

  it("the terminate may be the one extra request even when it reaches the manager first", () => {
    holdsAll({
      ...base,
      manager,
      client: { wait: 4, hold: 1, maxBodyChars: 100 },
      clientSends: [{ at: 108_349, count: 1 }],
      restartAt: 0,
      closeAt: 108_349,
      jitter: [1, 0]
    })
  })

  it("a late copy of an answered request still finds its answer in the manager's cache", () => {
    // hold=2: a resend of rid r crossed the original answer; without the straggler guard the client
    // sent `requests` new rids at once, the manager's cache dropped r, and the late copy got item-not-found.
    holdsAll({
      ...base,
      manager: { ...manager, hold: 2, requests: 3, featuresLater: true },
      client: { wait: 4, hold: 2, maxBodyChars: 200 },
      clientSends: [{ at: 0, count: 1 }, { at: 0, count: 5 }, { at: 0, count: 3 }],
      serverSends: [{ at: 0, count: 1 }],
      restartAt: 0,
      faults: ["delay-response", "none", "duplicate-response", "hang-request"],
      jitter: [0, 0, 11]
    })
  })

  it("a polling session whose creation answer was lost recovers and closes", () => {
    holdsAll({
      ...base,
      manager: { ...manager, hold: 0, requests: 1, polling: 2, conditionInReasonPhrase: true },
      client: { wait: 4, hold: 1, maxBodyChars: 100 },
      restartAt: 27_940,
      closeAt: 100_000,
      faults: ["lose-response"],
      jitter: [61, 0]
    })
  })

  it("closing while a copy is still out does not spin at one instant (a livelock once)", () => {
    holdsAll({
      ...base,
      manager: { ...manager, wait: 20, inactivity: 70 },
      client: { wait: 20, hold: 1 },
      serverSends: [{ at: 41_816, count: 1 }],
      closeAt: 100_000,
      faults: ["none", "delay-response", "hang-response", "none", "hang-response", "hang-response"],
      jitter: [6, 53, 59]
    })
  })

  it("a pause shorter than two lost exchanges is refused, so the manager cannot drop the session as inactive", () => {
    // hold=2, wait 5 (10 s per attempt): a 20 s pause made the manager's inactivity 20 s while the
    // answer to a held poll hung and its resend hung too; the second resend came at 21.5 s, too late.
    const s: Scenario = {
      ...base,
      manager: { ...manager, hold: 2, requests: 3, wait: 5, inactivity: 40 },
      client: { wait: 5, hold: 2 },
      pause: { at: 1261, seconds: 20, resumeAfter: 0 },
      faults: ["none", "hang-response", "none", "none", "hang-request"]
    }
    holdsAll(s)
    // And a pause just long enough (2 × 10 s + 1.5 s backoff + 1 s) survives the same faults.
    holdsAll({ ...s, pause: { at: 1261, seconds: 23, resumeAfter: 0 } })
  })

  it("a poll that reached the manager before its lost predecessor's resend is not a too-early poll", () => {
    // hold=2: the first copy of an empty poll hung, the next poll and the pause overtook it and
    // waited in the manager's buffer. The manager compared arrival times in rid order, so the
    // overtaking poll looked sent "-8.25 s" after the resend, and the session ended with
    // policy-violation. §11 is about requests the client sends after an empty answer; this one
    // was sent before its predecessor was even received.
    holdsAll({
      ...base,
      manager: { ...manager, hold: 2, requests: 3 },
      client: { wait: 4, hold: 2 },
      pause: { at: 1511, seconds: 21, resumeAfter: 0 },
      faults: ["delay-response", "hang-request"]
    })
  })
})
