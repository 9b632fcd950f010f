/**
 * Outlier bins of a histogram. A bin is flagged when it is non-empty, lies entirely beyond the
 * Tukey far-out fences (3 × IQR from the quartiles) and holds at most `maxShare` of the points:
 * values far from the bulk that are also rare. When the IQR is zero (a signal that sits on one
 * value most of the time), the spread used is max(IQR, (p99 − p01) / 10), so a signal with two
 * common levels (a pump on/off) is not flagged while rare excursions still are.
 *
 * @example
 * flagOutlierBins({ lo: 0, width: 1, counts: [50, 40, 0, 0, 0, 0, 0, 0, 0, 1] }, { p01: 0, p25: 0.2, p75: 1.5, p99: 1.9 })
 * // → [9]
 */
import { tukeyFences } from './stats.ts';

export interface BinLayout {
  lo: number;
  width: number;
  counts: readonly number[];
}

export interface Quartiles {
  p01: number;
  p25: number;
  p75: number;
  p99: number;
}

export function flagOutlierBins(
  h: BinLayout,
  q: Quartiles,
  opts: { fenceK?: number; maxShare?: number } = {},
): number[] {
  const { fenceK = 3, maxShare = 0.01 } = opts;
  const total = h.counts.reduce((s, c) => s + c, 0);
  if (total === 0) return [];
  const spread = Math.max(q.p75 - q.p25, (q.p99 - q.p01) / 10);
  const mid = (q.p25 + q.p75) / 2;
  const { low, high } = tukeyFences(mid - spread / 2, mid + spread / 2, fenceK);
  const out: number[] = [];
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i] ?? 0;
    if (c === 0 || c / total > maxShare) continue;
    const from = h.lo + i * h.width;
    const to = from + h.width;
    if (to <= low || from >= high) out.push(i);
    // A zero-width histogram (constant series) has one bin and nothing beyond the fences.
  }
  return out;
}
