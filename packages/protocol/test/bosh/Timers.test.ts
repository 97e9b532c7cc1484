/**
 * The named timers of the BOSH machine, and the machine's next deadline as
 * the earliest of them.
 */
import { BoshSession } from "@xmpp-core/protocol"
import { assert, describe, it } from "@effect/vitest"
import * as Timers from "../../src/bosh/Timers.js"

describe("Timers", () => {
  it("the next deadline is the earliest timer set; none when all are stopped", () => {
    const table = Timers.make()
    assert.isUndefined(Timers.next(table))
    Timers.set(table, "poll", 5_000)
    Timers.set(table, "request", 65_000)
    assert.strictEqual(Timers.next(table), 5_000)
    assert.isTrue(Timers.isExpired(table, "poll", 5_000))
    assert.isFalse(Timers.isExpired(table, "request", 5_000))
    Timers.stop(table, "poll")
    assert.strictEqual(Timers.next(table), 65_000)
  })

  it("a fork has timers of its own", () => {
    const table = Timers.make()
    const copy = Timers.fork(table)
    Timers.set(copy, "resume", 1)
    assert.isUndefined(Timers.next(table))
  })

  it("the machine's next deadline: the creation request's timeout (requestTimeoutMs)", () => {
    const started = BoshSession.make({ to: "localhost" }, { rid: new Uint8Array(6), keySeed: new Uint8Array(16) }, 1_000)
    assert.strictEqual(BoshSession.nextDeadline(started.state), 11_000)
  })
})
