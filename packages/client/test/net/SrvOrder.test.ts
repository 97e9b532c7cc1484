import { assert, describe, it } from "@effect/vitest"
import { SrvOrder } from "@xmpp-core/client"
import * as fc from "fast-check"

const record = (name: string, priority: number, weight: number) => ({ name, priority, weight })

describe("SrvOrder", () => {
  it("tries lower priorities first, whatever the draws", () => {
    const records = [record("c", 20, 100), record("a", 5, 0), record("b", 10, 1)]
    assert.deepStrictEqual(SrvOrder.order(records, (max) => max).map((r) => r.name), ["a", "b", "c"])
  })

  it("within a priority, the draw against the running weight sum picks the record (RFC 2782)", () => {
    const records = [record("light", 1, 10), record("heavy", 1, 90)]
    // Draw 5: running sums are 10, 100, so "light" (10 >= 5) comes first.
    assert.deepStrictEqual(SrvOrder.order(records, () => 5).map((r) => r.name), ["light", "heavy"])
    // Draw 50: "light" (10) < 50, "heavy" (100) >= 50.
    assert.deepStrictEqual(SrvOrder.order(records, () => 50).map((r) => r.name), ["heavy", "light"])
  })

  it("puts zero weights first in the running sum: chosen on a zero draw, else last", () => {
    const records = [record("w", 1, 5), record("zero", 1, 0)]
    assert.deepStrictEqual(SrvOrder.order(records, () => 0).map((r) => r.name), ["zero", "w"])
    assert.deepStrictEqual(SrvOrder.order(records, (max) => max).map((r) => r.name), ["w", "zero"])
  })

  it("draws within [0, sum of the remaining weights]", () => {
    const bounds: Array<number> = []
    SrvOrder.order([record("a", 1, 3), record("b", 1, 4), record("c", 2, 0)], (max) => {
      bounds.push(max)
      return 0
    })
    assert.deepStrictEqual(bounds, [7, 4, 0])
  })

  it("property: a permutation of the input with non-decreasing priority, for any draws in range", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ priority: fc.nat({ max: 3 }), weight: fc.nat({ max: 100 }) }), { maxLength: 12 }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
        (raw, draws) => {
          const records = raw.map((r, i) => ({ ...r, id: i }))
          const it = draws[Symbol.iterator]()
          const ordered = SrvOrder.order(records, (max) => Math.floor((it.next().value ?? 0) * (max + 1)))
          const ids = ordered.map((r) => r.id).sort((a, b) => a - b)
          const sorted = ordered.every((r, i) => i === 0 || (ordered[i - 1]?.priority ?? 0) <= r.priority)
          return sorted && ids.length === records.length && ids.every((id, i) => id === i)
        }
      )
    )
  })
})
