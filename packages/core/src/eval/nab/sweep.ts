/**
 * Exact threshold optimisation for NAB. All scored rows of the corpus are sorted by anomaly score
 * once; for a profile, lowering the threshold through every distinct score adds rows to the
 * detections one group at a time, and the corpus score is updated incrementally:
 *  - a row outside windows adds its own false-positive worth (every FP counts);
 *  - a row inside a window changes the window's worth only if it is earlier than the window's
 *    earliest detection so far (only the earliest detection counts; the first one also cancels
 *    the window's −fnWeight).
 * Sorting is O(N log N) once; each profile is then one O(N) pass. NAB's own optimiser is a coarse
 * local search and can stop at a slightly worse threshold.
 *
 * @example
 * const sweep = createNabSweep(files.map((f) => ({ plan: f.plan, scores: f.scores })));
 * const best = sweep.optimise(NAB_V11_PROFILES.standard); // { threshold, score, detections, candidates }
 */
import { checkNabScores, scoreNabFile } from './score-file.ts';
import { nabNullScore } from './normalise.ts';
import type { NabFilePlan } from './plan.ts';
import type { NabProfile } from './profiles.ts';

export interface NabSweepFile {
  readonly plan: NabFilePlan;
  readonly scores: ArrayLike<number>;
}

export interface NabSweepResult {
  /**
   * Best threshold: rows with anomaly score >= threshold are detections. POSITIVE_INFINITY when
   * detecting nothing scores best (JSON turns it into null).
   */
  threshold: number;
  /** Raw corpus score at that threshold, recomputed directly (not the running sum). */
  score: number;
  /** Number of scored rows detected at that threshold. */
  detections: number;
  /** Distinct thresholds evaluated, including "detect nothing". */
  candidates: number;
}

export interface NabSweep {
  optimise(profile: NabProfile): NabSweepResult;
  /** Raw corpus score at a fixed threshold (direct computation). */
  scoreAt(profile: NabProfile, threshold: number): number;
}

// Running sums drift by ~1e-12; a new candidate must beat the best by more than this to win,
// so near-ties resolve to the higher threshold (fewer detections) deterministically.
const TIE_EPS = 1e-9;

export function createNabSweep(files: readonly NabSweepFile[]): NabSweep {
  let total = 0;
  const windowBase: number[] = [];
  let windowCount = 0;
  files.forEach((f, k) => {
    checkNabScores(f.plan, f.scores, `file ${k}`);
    total += f.plan.rows - Math.max(0, Math.ceil(f.plan.probation));
    windowBase.push(windowCount);
    windowCount += f.plan.windows.length;
  });
  total = Math.max(0, total);

  // Flatten the scored rows: score, global window (-1 outside), row index, worth per unit weight.
  const score = new Float64Array(total);
  const gwin = new Int32Array(total);
  const row = new Int32Array(total);
  const worth = new Float64Array(total);
  let m = 0;
  files.forEach((f, k) => {
    const { plan } = f;
    for (let i = Math.max(0, Math.ceil(plan.probation)); i < plan.rows; i++) {
      score[m] = f.scores[i]!;
      const w = plan.rowWindow[i]!;
      gwin[m] = w >= 0 ? windowBase[k]! + w : -1;
      row[m] = i;
      worth[m] = plan.rowWorth[i]!;
      m++;
    }
  });
  const order = new Uint32Array(total);
  for (let j = 0; j < total; j++) order[j] = j;
  order.sort((a, b) => score[b]! - score[a]!);
  const plans = files.map((f) => f.plan);

  const scoreAt = (profile: NabProfile, threshold: number): number => {
    let s = 0;
    for (const f of files) s += scoreNabFile(f.plan, f.scores, threshold, profile).score;
    return s;
  };

  return {
    scoreAt,
    optimise(profile) {
      const { tpWeight, fpWeight, fnWeight } = profile;
      const earliestRow = new Int32Array(windowCount).fill(-1);
      const earliestWorth = new Float64Array(windowCount);
      let running = nabNullScore(plans, profile);
      let bestRunning = running;
      let bestThreshold = Number.POSITIVE_INFINITY;
      let bestDetections = 0;
      let candidates = 1;
      let j = 0;
      while (j < total) {
        const s = score[order[j]!]!;
        // Add every row with this exact score before evaluating: ">=" admits them together.
        while (j < total) {
          const e = order[j]!;
          if (score[e] !== s) break;
          const g = gwin[e]!;
          if (g < 0) {
            running += fpWeight * worth[e]!;
          } else {
            const prev = earliestRow[g]!;
            if (prev < 0) {
              running += fnWeight + tpWeight * worth[e]!;
              earliestRow[g] = row[e]!;
              earliestWorth[g] = worth[e]!;
            } else if (row[e]! < prev) {
              running += tpWeight * (worth[e]! - earliestWorth[g]!);
              earliestRow[g] = row[e]!;
              earliestWorth[g] = worth[e]!;
            }
          }
          j++;
        }
        candidates++;
        if (running > bestRunning + TIE_EPS) {
          bestRunning = running;
          bestThreshold = s;
          bestDetections = j;
        }
      }
      return { threshold: bestThreshold, score: scoreAt(profile, bestThreshold), detections: bestDetections, candidates };
    },
  };
}

/** One-shot form of `createNabSweep(files).optimise(profile)`. */
export function sweepNabThreshold(files: readonly NabSweepFile[], profile: NabProfile): NabSweepResult {
  return createNabSweep(files).optimise(profile);
}
