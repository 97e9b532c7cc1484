/**
 * Generated scenarios for the BOSH properties.
 */
import type { BoshSimulatedConnectionManager as CM } from "@xmpp-core/protocol/testing"
import * as fc from "fast-check"
import type { Fault, Scenario, Script } from "./Simulation.js"
import { MAX_JITTER } from "./Simulation.js"

const recoverableFault: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Fault>("none") },
  { weight: 2, arbitrary: fc.constant<Fault>("lose-request") },
  { weight: 1, arbitrary: fc.constant<Fault>("hang-request") },
  { weight: 2, arbitrary: fc.constant<Fault>("lose-response") },
  { weight: 1, arbitrary: fc.constant<Fault>("hang-response") },
  { weight: 2, arbitrary: fc.constant<Fault>("duplicate-response") },
  { weight: 2, arbitrary: fc.constant<Fault>("delay-response") },
  { weight: 1, arbitrary: fc.constant<Fault>("http-503") }
)

export const manager: fc.Arbitrary<CM.Config> = fc
  .record({
    // One run in four is a polling session (from the generator, so a seed replays it).
    pollingSession: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    hold: fc.integer({ min: 1, max: 2 }),
    wait: fc.integer({ min: 4, max: 30 }),
    polling: fc.integer({ min: 1, max: 5 }),
    enforceKeys: fc.boolean(),
    acknowledgements: fc.boolean(),
    conditionInReasonPhrase: fc.boolean(),
    featuresLater: fc.boolean(),
    omitVer: fc.boolean()
  })
  .map(({ pollingSession, hold, wait, polling, ...rest }) => ({
    ...rest,
    // A polling session (requests=1, hold 0) or the usual requests = hold + 1.
    hold: pollingSession ? 0 : hold,
    requests: pollingSession ? 1 : hold + 1,
    wait,
    polling,
    // Long enough that the recoverable faults (two hung exchanges in a row) fit inside it.
    inactivity: 2 * (wait + 5) + 20,
    maxpause: 120
  }))

const scripts = (maxAt: number, maxCount: number, maxLength: number): fc.Arbitrary<ReadonlyArray<Script>> =>
  fc.array(fc.record({ at: fc.integer({ min: 0, max: maxAt }), count: fc.integer({ min: 1, max: maxCount }) }), {
    maxLength
  })

export const scenario = (
  options: { readonly faults: boolean; readonly pause?: boolean }
): fc.Arbitrary<Scenario> =>
  fc
    .record({
      manager,
      keyChainLength: fc.option(fc.integer({ min: 2, max: 8 }), { nil: undefined }),
      maxBodyChars: fc.option(fc.integer({ min: 100, max: 400 }), { nil: undefined }),
      clientSends: scripts(120_000, 6, 12),
      serverSends: scripts(120_000, 6, 12),
      restartAt: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
      closeAt: fc.option(fc.integer({ min: 100_000, max: 140_000 }), { nil: undefined }),
      pause: options.pause !== true ? fc.constant(undefined) : fc.option(
        fc.record({
          at: fc.integer({ min: 0, max: 90_000 }),
          seconds: fc.integer({ min: 20, max: 120 }),
          resumeAfter: fc.integer({ min: 0, max: 15_000 })
        }),
        { nil: undefined }
      ),
      faults: options.faults ? fc.array(recoverableFault, { maxLength: 60 }) : fc.constant([]),
      jitter: fc.array(fc.integer({ min: 0, max: MAX_JITTER }), { minLength: 1, maxLength: 6 }),
      awaitsAcknowledgement: fc.boolean(),
      seed: fc.integer()
    })
    .map((g): Scenario => ({
      manager: g.manager,
      client: {
        wait: g.manager.wait,
        hold: Math.max(1, g.manager.hold),
        keyChainLength: g.keyChainLength,
        maxBodyChars: g.maxBodyChars
      },
      clientSends: g.clientSends,
      serverSends: g.serverSends,
      restartAt: g.restartAt,
      closeAt: g.closeAt,
      pause: g.pause,
      faults: g.faults,
      maxFaultsPerRid: 2,
      jitter: g.jitter,
      awaitsAcknowledgement: g.awaitsAcknowledgement,
      horizon: 400_000,
      seed: g.seed
    }))

/**
 * Scenarios where the caller waits for every acknowledgement and the
 * manager holds requests for 30 s: a held request would show.
 */
export const awaitingAcknowledgements: fc.Arbitrary<Scenario> = scenario({ faults: false }).map((s): Scenario => ({
  ...s,
  manager: { ...s.manager, wait: 30, inactivity: 2 * (30 + 5) + 20 },
  client: { ...s.client, wait: 30 },
  awaitsAcknowledgement: true
}))
