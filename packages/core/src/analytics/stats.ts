/**
 * Reference statistics in plain TypeScript: the definitions the SQL engines must agree with
 * (tests compare DuckDB's and Spark's answers against these), plus the small pieces of maths the
 * engines share: the histogram bin of a value, Tukey fences, a least-squares slope.
 *
 * @example
 * summarize([1, 2, 3, 4]).percentiles.p50 // 2.5 (linear interpolation, like DuckDB quantile_cont)
 * binOf(5, 0, 10, 10)                    // 5
 */
import { PERCENTILES, type PercentileName } from './types.ts';

/** Linear-interpolated quantile of sorted values: position q·(n−1). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * (pos - lo);
}

export interface Summary {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  percentiles: Record<PercentileName, number>;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((s, v) => s + v, 0) / n;
  const ss = sorted.reduce((s, v) => s + (v - mean) ** 2, 0);
  const percentiles = Object.fromEntries(PERCENTILES.map(([name, q]) => [name, quantileSorted(sorted, q)])) as Record<
    PercentileName,
    number
  >;
  return {
    count: n,
    mean,
    std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0,
    min: sorted[0] ?? NaN,
    max: sorted[n - 1] ?? NaN,
    percentiles,
  };
}

/**
 * The bin of `value` among `bins` equal bins over [lo, hi]: floor((v − lo) / (hi − lo) · bins),
 * with `hi` itself in the last bin and a constant series (hi = lo) entirely in bin 0. Both SQL
 * engines use exactly this expression.
 */
export function binOf(value: number, lo: number, hi: number, bins: number): number {
  if (!(hi > lo)) return 0;
  return Math.max(0, Math.min(bins - 1, Math.floor(((value - lo) / (hi - lo)) * bins)));
}

/** Tukey fences at `k` interquartile ranges (k = 3: "far out"). */
export function tukeyFences(q1: number, q3: number, k = 3): { low: number; high: number } {
  const iqr = q3 - q1;
  return { low: q1 - k * iqr, high: q3 + k * iqr };
}

/** Least-squares slope of y over x; 0 with fewer than two distinct x. */
export function linearSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += (xs[i] ?? 0) / n;
    my += (ys[i] ?? 0) / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    sxy += dx * ((ys[i] ?? 0) - my);
    sxx += dx * dx;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/** Rolling mean over the current and up to `w − 1` previous values. */
export function rollingMean(values: readonly number[], w: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i] ?? 0;
    if (i >= w) sum -= values[i - w] ?? 0;
    out.push(sum / Math.min(i + 1, w));
  }
  return out;
}
