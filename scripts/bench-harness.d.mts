/** Per-call statistics of a measured function, in nanoseconds (tinybench's latency samples). */
export interface Measurement {
  readonly minNs: number
  readonly medianNs: number
  readonly p99Ns: number
  readonly maxNs: number
  /** Relative margin of error of the mean, in percent (95% confidence). */
  readonly rme: number
  readonly samples: number
}
/** At least `iterations × rounds` timed calls after `iterations × warmup` warm-up calls. */
export interface MeasureOptions {
  readonly iterations?: number
  readonly rounds?: number
  readonly warmup?: number
}
export declare const measure: (fn: () => unknown, options?: MeasureOptions) => Measurement
export declare const measureAsync: (fn: () => Promise<unknown>, options?: MeasureOptions) => Promise<Measurement>
export declare const report: (title: string, rows: ReadonlyArray<readonly [string, string]>) => void
