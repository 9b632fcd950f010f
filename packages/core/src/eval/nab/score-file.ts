/**
 * Direct NAB scoring of one file at one threshold (the reference the sweep is checked against,
 * and the source of per-file tables). O(rows).
 *
 * @example
 * const r = scoreNabFile(plan, anomalyScores, 0.54, NAB_V11_PROFILES.standard);
 * r.score; // raw score of the file; r.tp / r.fp / r.fn / r.tn are row counts as in NAB's tables
 */
import { NabError } from './errors.ts';
import type { NabFilePlan } from './plan.ts';
import type { NabProfile } from './profiles.ts';

export interface NabFileScore {
  /** Raw (unnormalised) score of the file. */
  score: number;
  /** Scored rows detected inside a window (NAB's "TP" column: rows, not windows). */
  tp: number;
  /** Scored rows detected outside every window. */
  fp: number;
  /** Scored rows inside a window and not detected. */
  fn: number;
  /** Scored rows outside windows and not detected. */
  tn: number;
  /** Scored windows with at least one detection. */
  windowsDetected: number;
  /** Scored windows with none. */
  windowsMissed: number;
}

/** Throws E_NAB_SCORES unless `scores` has one finite number per row. */
export function checkNabScores(plan: NabFilePlan, scores: ArrayLike<number>, where = 'scores'): void {
  if (scores.length !== plan.rows) {
    throw new NabError('E_NAB_SCORES', `${where}: ${scores.length} anomaly scores for ${plan.rows} rows`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new NabError('E_NAB_SCORES', `${where}: anomaly score of row ${i} is not finite (got ${String(scores[i])})`);
    }
  }
}

/** A row is a detection when its anomaly score is at or above `threshold`. */
export function scoreNabFile(plan: NabFilePlan, scores: ArrayLike<number>, threshold: number, profile: NabProfile): NabFileScore {
  checkNabScores(plan, scores);
  const first = new Int32Array(plan.windows.length).fill(-1);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  let fpSum = 0;
  const start = Math.max(0, Math.ceil(plan.probation));
  for (let i = start; i < plan.rows; i++) {
    const k = plan.rowWindow[i]!;
    const hit = scores[i]! >= threshold;
    if (k >= 0) {
      if (hit) {
        tp++;
        if (first[k]! < 0) first[k] = i;
      } else fn++;
    } else if (hit) {
      fp++;
      fpSum += plan.rowWorth[i]!;
    } else tn++;
  }
  let windowSum = 0;
  let windowsDetected = 0;
  let windowsMissed = 0;
  plan.windows.forEach((w, k) => {
    if (!w.scored) return;
    const i = first[k]!;
    if (i >= 0) {
      windowsDetected++;
      windowSum += profile.tpWeight * plan.rowWorth[i]!;
    } else {
      windowsMissed++;
      windowSum -= profile.fnWeight;
    }
  });
  return { score: windowSum + profile.fpWeight * fpSum, tp, fp, fn, tn, windowsDetected, windowsMissed };
}
