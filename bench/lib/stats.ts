/**
 * The one percentile definition every benchmark reports: nearest rank, i.e. the smallest sample
 * with at least p % of the samples at or below it (p50 of [1, 2, 3, 4] is 2, p100 is the max).
 * No interpolation, so every reported figure is a latency that was really measured.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  return percentiles(values, [p])[0]!;
}

/** Several percentiles of one sample set, sorting it once (NaN for no samples). */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  if (values.length === 0) return ps.map(() => NaN);
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);
}

/** p50 / p90 / p99 / max, rounded to `digits` decimals. */
export function latencySummary(values: ArrayLike<number>, digits = 2): { p50: number; p90: number; p99: number; max: number; n: number } {
  const [p50, p90, p99, max] = percentiles(values, [50, 90, 99, 100]).map((v) => round(v, digits));
  return { p50: p50!, p90: p90!, p99: p99!, max: max!, n: values.length };
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
