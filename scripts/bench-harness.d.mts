export interface Measurement {
  readonly minNs: number
  readonly medianNs: number
  readonly maxNs: number
}
export interface MeasureOptions {
  readonly iterations?: number
  readonly rounds?: number
  readonly warmup?: number
}
export declare const measure: (fn: () => unknown, options?: MeasureOptions) => Measurement
export declare const measureAsync: (fn: () => Promise<unknown>, options?: MeasureOptions) => Promise<Measurement>
export declare const report: (title: string, rows: ReadonlyArray<readonly [string, string]>) => void
