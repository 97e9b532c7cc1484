// The timing harness shared by every package's benchmarks (bench/*.bench.ts,
// compiled by `tsc -b` into dist-bench/ and run by scripts/bench.mjs), on
// tinybench: warm-up, per-call latency samples, percentiles and the relative
// margin of error, instead of a loop of our own.
import { Bench } from "tinybench"

const statistics = (bench, name) => {
  const task = bench.getTask(name)
  const result = task?.result
  if (result === undefined || result.state === "errored") throw result?.error ?? new Error(`${name}: no result`)
  if (!("latency" in result)) throw new Error(`${name}: ${result.state}, no statistics`)
  const ns = (ms) => ms * 1e6
  const { latency } = result
  return {
    minNs: ns(latency.min),
    medianNs: ns(latency.p50),
    p99Ns: ns(latency.p99),
    maxNs: ns(latency.max),
    /** Relative margin of error of the mean, in percent (95% confidence). */
    rme: latency.rme,
    samples: latency.samplesCount
  }
}

// At least `iterations × rounds` timed calls after `iterations × warmup`
// warm-up calls, with no time budget of their own: the callers size them.
const options = ({ iterations = 1, rounds = 7, warmup = 2 } = {}) => ({
  iterations: Math.max(1, iterations * rounds),
  time: 0,
  warmupIterations: iterations * warmup,
  warmupTime: 0,
  warmup: warmup > 0
})

/** Runs `fn` (synchronous) and returns per-call statistics in nanoseconds. */
export const measure = (fn, settings) => {
  const bench = new Bench(options(settings)).add("fn", fn)
  bench.runSync()
  return statistics(bench, "fn")
}

/** The same for async functions. */
export const measureAsync = async (fn, settings) => {
  const bench = new Bench(options(settings)).add("fn", fn)
  await bench.run()
  return statistics(bench, "fn")
}

/** Prints one titled table: rows of [label, value] pairs, values already formatted. */
export const report = (title, rows) => {
  console.log(`\n## ${title}`)
  const width = Math.max(...rows.map(([label]) => label.length))
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`)
}
