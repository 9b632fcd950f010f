/**
 * Drift between two periods of one series: the standardised mean difference (Cohen's d with the
 * pooled standard deviation), the ratio of standard deviations, and the population stability
 * index (PSI) over the same histogram bins. A series is said to have drifted when |d| ≥ 1 or
 * PSI ≥ 0.25 (the usual "significant shift" level), and both periods hold enough points.
 *
 * @example
 * driftBetween({ count: 100, mean: 10, std: 1 }, { count: 100, mean: 12, std: 1 }, [50, 50, 0, 0], [0, 0, 50, 50])
 * // → { effectSize: 2, stdRatio: 1, psi: ≈ 18.4, drifted: true }
 */
import type { PeriodStats } from './types.ts';

export interface DriftOptions {
  effectSizeMin?: number;
  psiMin?: number;
  /** Each period needs at least this many points to be judged. */
  minCount?: number;
}

export function psi(before: readonly number[], after: readonly number[]): number {
  const nb = before.reduce((s, c) => s + c, 0);
  const na = after.reduce((s, c) => s + c, 0);
  if (nb === 0 || na === 0) return 0;
  // A small floor keeps empty bins from making the index infinite.
  const eps = 1e-4;
  let sum = 0;
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    const b = Math.max(eps, (before[i] ?? 0) / nb);
    const a = Math.max(eps, (after[i] ?? 0) / na);
    sum += (a - b) * Math.log(a / b);
  }
  return sum;
}

export function driftBetween(
  before: PeriodStats,
  after: PeriodStats,
  binsBefore: readonly number[],
  binsAfter: readonly number[],
  opts: DriftOptions = {},
): { effectSize: number; stdRatio: number; psi: number; drifted: boolean } {
  const { effectSizeMin = 1, psiMin = 0.25, minCount = 30 } = opts;
  const dfB = Math.max(0, before.count - 1);
  const dfA = Math.max(0, after.count - 1);
  const pooledVar = dfA + dfB > 0 ? (dfB * before.std ** 2 + dfA * after.std ** 2) / (dfA + dfB) : 0;
  const pooled = Math.sqrt(pooledVar);
  const diff = after.mean - before.mean;
  // Both periods constant: any change of level is an infinitely large effect; report it as ±10.
  const effectSize = pooled > 1e-12 ? diff / pooled : diff === 0 ? 0 : Math.sign(diff) * 10;
  const stdRatio = before.std > 1e-12 ? after.std / before.std : after.std > 1e-12 ? 10 : 1;
  const p = psi(binsBefore, binsAfter);
  const enough = before.count >= minCount && after.count >= minCount;
  return { effectSize, stdRatio, psi: p, drifted: enough && (Math.abs(effectSize) >= effectSizeMin || p >= psiMin) };
}
