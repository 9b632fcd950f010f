/**
 * Judging a value against a baseline and a spread, shared by ema_baseline and sma_baseline:
 * signed z, the score squash(|z|, threshold_z) and a finding with a readable reason.
 *
 * @example
 * const score = judgeDeviation(p, 41.2, 30, 2.1, 'EMA baseline', 0, out, labels); // "... is 5.33σ above its EMA baseline 30"
 */
import { fmt, squash, type FindingSink, type StepLabels } from '../contract.ts';

export interface DeviationParams {
  threshold_z: number;
  direction: 'both' | 'up' | 'down';
}

/** For normal data the mean absolute deviation is σ·√(2/π); multiplying by this turns it into a σ estimate. */
export const MEAN_ABS_DEV_TO_SIGMA = Math.sqrt(Math.PI / 2);

/** Below this (relative to the baseline's magnitude) a spread is treated as zero: float residue, not signal. */
const ZERO_SPREAD = 1e-9;

/** Signed z of `value` against `center` and `spread`; ±Infinity when the spread is ~0 and the value is not at the center. */
export function zOf(value: number, center: number, spread: number): number {
  const dev = value - center;
  const tol = ZERO_SPREAD * Math.max(1, Math.abs(center));
  if (spread > tol) return dev / spread;
  if (Math.abs(dev) <= tol) return 0;
  return dev > 0 ? Infinity : -Infinity;
}

/** Scores `value`; raises a finding when |z| reaches threshold_z in a counted direction. */
export function judgeDeviation(
  p: DeviationParams,
  value: number,
  center: number,
  spread: number,
  baseline: string,
  spanSecs: number,
  out: FindingSink,
  labels: StepLabels,
): number {
  const z = zOf(value, center, spread);
  const counted = p.direction === 'both' || (p.direction === 'up' ? z > 0 : z < 0);
  const az = counted ? Math.abs(z) : 0;
  if (az >= p.threshold_z) reportDeviation(p, value, center, spread, baseline, spanSecs, out, labels, z, az);
  return az === Infinity ? 1 : squash(az, p.threshold_z);
}

/**
 * Builds and sends the finding. Out of line on purpose: it keeps judgeDeviation (and the steps
 * that call it) small enough for V8 to inline into the runtime's loop, which is worth ~10-20%
 * per update; the common no-finding path allocates nothing. Exported for steps that compute z
 * inline (sma_baseline) and call this only when |z| reaches the threshold.
 */
export function reportDeviation(
  p: DeviationParams,
  value: number,
  center: number,
  spread: number,
  baseline: string,
  spanSecs: number,
  out: FindingSink,
  labels: StepLabels,
  z: number,
  az: number,
): void {
  const side = z > 0 ? 'above' : 'below';
  const its = spanSecs > 0 ? `its ${fmt(spanSecs)} s ${baseline}` : `its ${baseline}`;
  const reason =
    az === Infinity
      ? `${labels.metric} ${fmt(value)} is ${side} ${its} (constant) ${fmt(center)}`
      : `${labels.metric} ${fmt(value)} is ${fmt(az)}σ ${side} ${its} ${fmt(center)}`;
  const detail: Record<string, number> = { value, baseline: center, spread };
  if (Number.isFinite(z)) detail.z = z;
  out.finding({ severity: az >= 2 * p.threshold_z ? 'critical' : 'warning', reason, detail });
}
