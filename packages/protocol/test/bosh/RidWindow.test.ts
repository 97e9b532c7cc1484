/**
 * The rid window on its own: rids taken in order, outstanding requests,
 * copies on the wire, and the rule that no new rid pushes a late copy's
 * answer out of the manager's cache.
 */
import { assert, describe, it } from "@effect/vitest"
import * as RidWindow from "../../src/bosh/RidWindow.js"

interface Req {
  readonly rid: number
  deadline: number
}

const window = (rid = 100) => RidWindow.make<Req, string>(rid)

describe("RidWindow", () => {
  it("takes rids in order and counts what is out until it is processed", () => {
    const w = window()
    assert.strictEqual(RidWindow.take(w), 100)
    assert.strictEqual(RidWindow.take(w), 101)
    assert.strictEqual(RidWindow.outstanding(w), 2)
    w.deliverRid = 101
    assert.strictEqual(RidWindow.outstanding(w), 1)
  })

  it("a copy is off the wire when its exchange ended, by attempt or all at once", () => {
    const w = window()
    RidWindow.trackCopy(w, 100, 1, 1_000)
    RidWindow.trackCopy(w, 100, 3, 3_000)
    assert.deepStrictEqual(w.copies.get(100), [1_000, 0, 3_000])
    RidWindow.forgetCopy(w, 100, 1)
    assert.deepStrictEqual(w.copies.get(100), [0, 0, 3_000])
    RidWindow.forgetCopy(w, 100, 7)
    assert.deepStrictEqual(w.copies.get(100), [0, 0, 3_000])
    RidWindow.forgetCopy(w, 100, undefined)
    assert.isFalse(w.copies.has(100))
  })

  it("no new rid goes out that would evict a late copy's answer from a cache of `requests` answers", () => {
    const w = window()
    RidWindow.take(w) // 100
    RidWindow.take(w) // 101
    // 100 was answered (by another exchange), but a copy of it may still reach the manager until 5 s.
    w.deliverRid = 101
    RidWindow.trackCopy(w, 100, 2, 5_000)
    // With requests = 2 the manager caches the answers of the last two rids: 102 would push 100's out.
    assert.isFalse(RidWindow.allowsNew(w, 2, 1_000))
    assert.isTrue(RidWindow.allowsNew(w, 3, 1_000))
    assert.strictEqual(RidWindow.stragglerDeadline(w), 5_000)
    // Once the copy is no longer waited for, the window is free again and the copy dropped.
    assert.isTrue(RidWindow.allowsNew(w, 2, 5_000))
    assert.isFalse(w.copies.has(100))
    assert.strictEqual(RidWindow.stragglerDeadline(w), Infinity)
  })

  it("a copy of a request not yet processed is no straggler", () => {
    const w = window()
    RidWindow.take(w)
    RidWindow.trackCopy(w, 100, 1, 5_000)
    assert.strictEqual(RidWindow.oldestStraggler(w, 0), Infinity)
    assert.strictEqual(RidWindow.stragglerDeadline(w), Infinity)
    assert.isTrue(RidWindow.allowsNew(w, 1, 0))
  })

  it("the request deadline is the earliest among requests still waiting for their response", () => {
    const w = window()
    w.outgoing.set(100, { rid: 100, deadline: 3_000 })
    w.outgoing.set(101, { rid: 101, deadline: 2_000 })
    w.outgoing.set(102, { rid: 102, deadline: Infinity })
    const deadline = (request: Req) => request.deadline
    assert.strictEqual(RidWindow.requestDeadline(w, deadline), 2_000)
    // An answered request waits for its turn, not for a deadline.
    w.received.set(101, "answer")
    assert.strictEqual(RidWindow.requestDeadline(w, deadline), 3_000)
  })

  it("a fork changes nothing of the window it came from", () => {
    const w = window()
    RidWindow.take(w)
    w.outgoing.set(100, { rid: 100, deadline: 1_000 })
    RidWindow.trackCopy(w, 100, 1, 1_000)
    const f = RidWindow.fork(w, (request) => ({ ...request }))
    RidWindow.take(f)
    f.deliverRid = 101
    const request = f.outgoing.get(100)
    if (request !== undefined) request.deadline = 9_000
    f.received.set(100, "answer")
    RidWindow.forgetCopy(f, 100, 1)
    assert.strictEqual(w.nextRid, 101)
    assert.strictEqual(w.deliverRid, 100)
    assert.strictEqual(w.outgoing.get(100)?.deadline, 1_000)
    assert.isFalse(w.received.has(100))
    assert.deepStrictEqual(w.copies.get(100), [1_000])
  })
})
