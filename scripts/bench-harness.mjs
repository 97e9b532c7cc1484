// A small timing harness shared by every package's benchmarks (bench/*.bench.ts,
// compiled by `tsc -b` into dist-bench/ and run by scripts/bench.mjs).
import { performance } from "node:perf_hooks"

/**
 * Runs `fn` repeatedly: warm-up rounds first, then `rounds` timed rounds of
 * `iterations` calls each. Returns per-call statistics in nanoseconds.
 */
export const measure = (fn, { iterations = 1, rounds = 7, warmup = 2 } = {}) => {
  for (let i = 0; i < warmup; i++) for (let j = 0; j < iterations; j++) fn()
  const samples = []
  for (let i = 0; i < rounds; i++) {
    const start = performance.now()
    for (let j = 0; j < iterations; j++) fn()
    samples.push(((performance.now() - start) * 1e6) / iterations)
  }
  samples.sort((a, b) => a - b)
  return { minNs: samples[0], medianNs: samples[Math.floor(samples.length / 2)], maxNs: samples[samples.length - 1] }
}

/** The same for async functions. */
export const measureAsync = async (fn, { iterations = 1, rounds = 7, warmup = 2 } = {}) => {
  for (let i = 0; i < warmup; i++) for (let j = 0; j < iterations; j++) await fn()
  const samples = []
  for (let i = 0; i < rounds; i++) {
    const start = performance.now()
    for (let j = 0; j < iterations; j++) await fn()
    samples.push(((performance.now() - start) * 1e6) / iterations)
  }
  samples.sort((a, b) => a - b)
  return { minNs: samples[0], medianNs: samples[Math.floor(samples.length / 2)], maxNs: samples[samples.length - 1] }
}

/** Prints one titled table: rows of [label, value] pairs, values already formatted. */
export const report = (title, rows) => {
  console.log(`\n## ${title}`)
  const width = Math.max(...rows.map(([label]) => label.length))
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`)
}
