/**
 * The queue of what is not sent yet, on its own: batches bounded by size,
 * the restart and close marks, and states that share one array.
 */
import { Element } from "@xmpp-core/protocol"
import { assert, describe, it } from "@effect/vitest"
import * as PendingQueue from "../../src/bosh/PendingQueue.js"

const stanza = (id: string, chars = 10): PendingQueue.Item => ({
  _tag: "Stanza",
  element: Element.make("message", { attributes: { id } }),
  text: "x".repeat(chars)
})

const ids = (batch: PendingQueue.Batch) => batch.payloads.map((element) => Element.attribute(element, "id"))

describe("PendingQueue", () => {
  it("counts stanzas, not marks", () => {
    const q = PendingQueue.make()
    PendingQueue.append(q, stanza("a"))
    PendingQueue.append(q, { _tag: "Restart" })
    PendingQueue.append(q, stanza("b"))
    assert.strictEqual(PendingQueue.length(q), 3)
    assert.strictEqual(q.stanzas, 2)
    assert.strictEqual(PendingQueue.peek(q)?._tag, "Stanza")
  })

  it("an emptied queue keeps nothing it sent (an idle session holds no old stanzas); an older state keeps its own", () => {
    const q = PendingQueue.make()
    for (const id of ["a", "b"]) PendingQueue.append(q, stanza(id))
    const older = PendingQueue.fork(q)
    PendingQueue.consume(q, PendingQueue.nextBatch(q, 1000))
    assert.strictEqual(PendingQueue.length(q), 0)
    assert.deepStrictEqual(q.items, [])
    assert.deepStrictEqual(ids(PendingQueue.nextBatch(older, 1000)), ["a", "b"])
    PendingQueue.append(q, stanza("c"))
    assert.deepStrictEqual(ids(PendingQueue.nextBatch(q, 1000)), ["c"])
  })

  it("a batch takes stanzas up to the size limit (at least one), and stops before a restart", () => {
    const q = PendingQueue.make()
    for (const id of ["a", "b", "c"]) PendingQueue.append(q, stanza(id, 40))
    PendingQueue.append(q, { _tag: "Restart" })
    PendingQueue.append(q, stanza("d", 500))
    const first = PendingQueue.nextBatch(q, 100)
    assert.deepStrictEqual(ids(first), ["a", "b"])
    assert.strictEqual(first.text.length, 80)
    assert.isFalse(first.close)
    // Looking changes nothing; consuming does.
    assert.strictEqual(PendingQueue.length(q), 5)
    PendingQueue.consume(q, first)
    assert.strictEqual(q.stanzas, 2)
    const second = PendingQueue.nextBatch(q, 100)
    assert.deepStrictEqual(ids(second), ["c"])
    PendingQueue.consume(q, second)
    assert.strictEqual(PendingQueue.peek(q)?._tag, "Restart")
    assert.deepStrictEqual(ids(PendingQueue.nextBatch(q, 100)), [])
    PendingQueue.skip(q)
    // A stanza larger than the limit still goes, alone.
    assert.deepStrictEqual(ids(PendingQueue.nextBatch(q, 100)), ["d"])
  })

  it("the close mark rides with the stanzas before it, when they fit", () => {
    const q = PendingQueue.make()
    PendingQueue.append(q, stanza("bye", 40))
    PendingQueue.append(q, { _tag: "Close" })
    assert.isTrue(PendingQueue.closeWithinReach(q, 100))
    const batch = PendingQueue.nextBatch(q, 100)
    assert.deepStrictEqual(ids(batch), ["bye"])
    assert.isTrue(batch.close)
    PendingQueue.consume(q, batch)
    assert.strictEqual(PendingQueue.length(q), 0)

    const far = PendingQueue.make()
    for (const id of ["a", "b", "c"]) PendingQueue.append(far, stanza(id, 40))
    PendingQueue.append(far, { _tag: "Close" })
    assert.isFalse(PendingQueue.closeWithinReach(far, 100))
    assert.isTrue(PendingQueue.closeWithinReach(far, 120))
  })

  it("states share one array: a fork appends in place once, a second fork at the same end copies", () => {
    const q = PendingQueue.make()
    PendingQueue.append(q, stanza("a"))
    const one = PendingQueue.fork(q)
    const two = PendingQueue.fork(q)
    PendingQueue.append(one, stanza("one"))
    assert.strictEqual(one.items, q.items)
    PendingQueue.append(two, stanza("two"))
    assert.notStrictEqual(two.items, q.items)
    const all = (queue: PendingQueue.PendingQueue) =>
      queue.items.slice(queue.head, queue.end).map((item) => item._tag === "Stanza" ? Element.attribute(item.element, "id") : item._tag)
    assert.deepStrictEqual(all(q), ["a"])
    assert.deepStrictEqual(all(one), ["a", "one"])
    assert.deepStrictEqual(all(two), ["a", "two"])
  })

  it("drops the consumed front now and then, so the array does not grow without bound", () => {
    const q = PendingQueue.make()
    for (let i = 0; i < 3000; i++) PendingQueue.append(q, stanza(String(i), 1))
    while (PendingQueue.length(q) > 100) PendingQueue.consume(q, PendingQueue.nextBatch(q, 1))
    assert.isBelow(q.items.length, 3000)
    assert.strictEqual(q.stanzas, 100)
    assert.deepStrictEqual(ids(PendingQueue.nextBatch(q, 1)), ["2900"])
  })
})
