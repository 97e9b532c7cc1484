/**
 * What the caller handed to the BOSH session and no request carried yet:
 * stanzas (with their text as it goes inside `<body/>`), and the restart and
 * close marks in their place among them.
 *
 * A state reads only its own window `[head, end)` of an array shared with
 * the states stepped from it, so a burst of 100,000 stanzas stays linear.
 * A step appends past the end in place only when no other step did so
 * first; otherwise it takes its own copy (see `append`).
 *
 * @since 0.1.0
 */
import type * as Element from "../xml/Element.js"

/**
 * @since 0.1.0
 */
export type Item =
  | { readonly _tag: "Stanza"; readonly element: Element.Element; readonly text: string }
  | { readonly _tag: "Restart" }
  | { readonly _tag: "Close" }

/**
 * @since 0.1.0
 */
export interface PendingQueue {
  items: Array<Item>
  head: number
  end: number
  /** How many of the items are stanzas. */
  stanzas: number
}

/**
 * An empty queue.
 *
 * @since 0.1.0
 */
export const make = (): PendingQueue => ({ items: [], head: 0, end: 0, stanzas: 0 })

/**
 * A copy the caller may change without touching `queue` (the array stays shared).
 *
 * @since 0.1.0
 */
export const fork = (queue: PendingQueue): PendingQueue => ({
  items: queue.items,
  head: queue.head,
  end: queue.end,
  stanzas: queue.stanzas
})

/**
 * How many items wait.
 *
 * @since 0.1.0
 */
export const length = (queue: PendingQueue): number => queue.end - queue.head

/**
 * The first item, if any.
 *
 * @since 0.1.0
 */
export const peek = (queue: PendingQueue): Item | undefined => queue.head < queue.end ? queue.items[queue.head] : undefined

// Gives the queue an array of its own holding just its window.
const own = (queue: PendingQueue): void => {
  queue.items = queue.items.slice(queue.head, queue.end)
  queue.head = 0
  queue.end = queue.items.length
}

/**
 * Adds an item at the end. Appending in place is invisible to older states,
 * which read only up to their own end; a second append at the same place (a
 * step replayed from an older state) must not overwrite what the first one
 * wrote, so it takes a copy.
 *
 * @since 0.1.0
 */
export const append = (queue: PendingQueue, item: Item): void => {
  if (queue.items.length !== queue.end) own(queue)
  queue.items.push(item)
  queue.end += 1
  if (item._tag === "Stanza") queue.stanzas += 1
}

/**
 * Drops the first item (a restart mark, sent).
 *
 * @since 0.1.0
 */
export const skip = (queue: PendingQueue): void => {
  queue.head += 1
}

/**
 * What the next request would carry from the front of the queue: stanzas up
 * to `maxChars` characters of text (at least one), then the close mark if it
 * comes next; it stops before a restart mark.
 *
 * @since 0.1.0
 */
export interface Batch {
  readonly payloads: ReadonlyArray<Element.Element>
  readonly text: string
  readonly close: boolean
  /** Where the queue's head goes once the batch is sent. */
  readonly next: number
}

/**
 * The batch at the front of the queue (see `Batch`); the queue is unchanged.
 *
 * @since 0.1.0
 */
export const nextBatch = (queue: PendingQueue, maxChars: number): Batch => {
  let index = queue.head
  let text = ""
  const payloads: Array<Element.Element> = []
  let close = false
  while (index < queue.end) {
    const item = queue.items[index]
    if (item === undefined || item._tag === "Restart") break
    if (item._tag === "Close") {
      close = true
      index++
      break
    }
    if (payloads.length > 0 && text.length + item.text.length > maxChars) break
    payloads.push(item.element)
    text += item.text
    index++
  }
  return { payloads, text, close, next: index }
}

/**
 * Removes a batch taken with `nextBatch` from the front of the queue.
 *
 * @since 0.1.0
 */
export const consume = (queue: PendingQueue, batch: Batch): void => {
  queue.head = batch.next
  queue.stanzas -= batch.payloads.length
  // Emptied: a fresh array, so an idle session does not keep what it sent. Otherwise now and
  // then the consumed front is dropped, so the array does not grow without bound.
  if (queue.head === queue.end) {
    queue.items = []
    queue.head = 0
    queue.end = 0
  } else if (queue.head > 1024 && queue.head * 2 > queue.end) own(queue)
}

/**
 * The stanzas waiting, oldest first.
 *
 * @since 0.1.0
 */
export const stanzaElements = (queue: PendingQueue): ReadonlyArray<Element.Element> => {
  const elements: Array<Element.Element> = []
  for (let index = queue.head; index < queue.end; index++) {
    const item = queue.items[index]
    if (item !== undefined && item._tag === "Stanza") elements.push(item.element)
  }
  return elements
}

/**
 * Whether the close mark would ride in the next request: it comes before
 * any restart mark, within `maxChars` characters of stanzas.
 *
 * @since 0.1.0
 */
export const closeWithinReach = (queue: PendingQueue, maxChars: number): boolean => {
  let chars = 0
  for (let index = queue.head; index < queue.end; index++) {
    const item = queue.items[index]
    if (item === undefined || item._tag === "Restart") return false
    if (item._tag === "Close") return true
    chars += item.text.length
    if (chars > maxChars && index > queue.head) return false
  }
  return false
}
