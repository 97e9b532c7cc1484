/**
 * The order in which to try the SRV records of a service (RFC 2782): lowest
 * priority first; within one priority, a weighted random order. The random
 * source is a parameter so the order is reproducible in tests.
 *
 * @since 0.1.0
 */

/**
 * The fields of an SRV record the ordering reads, plus whatever the caller carries along.
 *
 * @since 0.1.0
 */
export interface Weighted {
  readonly priority: number
  readonly weight: number
}

/**
 * Orders `records` as RFC 2782 prescribes. `randomInt(max)` must return an
 * integer in `[0, max]`, uniformly.
 *
 * Within a priority, records of weight 0 are put first in the running sum
 * (as RFC 2782 says), so they are chosen only when the draw is 0 or nothing
 * else is left: rarely, but never starved.
 *
 * @since 0.1.0
 */
export const order = <A extends Weighted>(records: ReadonlyArray<A>, randomInt: (max: number) => number): Array<A> => {
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b)
  const ordered: Array<A> = []
  for (const priority of priorities) {
    const group = records.filter((r) => r.priority === priority)
    // Zero weights at the beginning, the rest in their given order.
    const remaining = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)]
    while (remaining.length > 0) {
      const total = remaining.reduce((sum, r) => sum + r.weight, 0)
      const draw = randomInt(total)
      let running = 0
      let chosen = remaining.length - 1
      for (let i = 0; i < remaining.length; i++) {
        running += remaining[i]?.weight ?? 0
        if (running >= draw) {
          chosen = i
          break
        }
      }
      const [record] = remaining.splice(chosen, 1)
      if (record !== undefined) ordered.push(record)
    }
  }
  return ordered
}
