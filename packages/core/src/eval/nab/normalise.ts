/**
 * NAB normalisation: 100 × (raw − null) / (perfect − null), so the null detector scores 0 and a
 * detector that flags every window at its left edge and nothing else scores 100.
 *
 * @example
 * normaliseNabScore(46.63, -116, 116); // ≈ 70.10
 */
import type { NabFilePlan } from './plan.ts';
import type { NabProfile } from './profiles.ts';

/** Raw score of a detector that never fires: −fnWeight per window with at least one scored row. */
export function nabNullScore(plans: readonly NabFilePlan[], profile: NabProfile): number {
  let windows = 0;
  for (const p of plans) for (const w of p.windows) if (w.scored) windows++;
  return -profile.fnWeight * windows;
}

/** Raw score of the perfect detector: tpWeight per labelled window (all windows, as NAB counts them). */
export function nabPerfectScore(plans: readonly NabFilePlan[], profile: NabProfile): number {
  let windows = 0;
  for (const p of plans) windows += p.windows.length;
  return profile.tpWeight * windows;
}

export function normaliseNabScore(raw: number, nullRaw: number, perfectRaw: number): number {
  const span = perfectRaw - nullRaw;
  // A corpus without windows has no scale; report 0 rather than NaN.
  return span === 0 ? 0 : (100 * (raw - nullRaw)) / span;
}
