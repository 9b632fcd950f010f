/**
 * Per-file preparation for NAB scoring: which rows are scored, which window each row is in, and
 * what a detection on each row is worth per unit of profile weight. Independent of the profile
 * and of the detector, so one plan serves every profile and every threshold.
 *
 * @example
 * const plan = planNabFile([t0, t1, ...], [[winStartMs, winEndMs]]);
 * plan.rowWindow[i]; // window index of row i, or -1 outside every window
 * plan.rowWorth[i];  // inside: sig(p)/sig(-1) (× tpWeight); outside: s in [-1, 0] (× fpWeight)
 */
import { NabError } from './errors.ts';
import { MAX_TP_SIGMOID, scaledSigmoid } from './sigmoid.ts';

/** NAB's probationary fraction: the first 15% of a file (at most 750 rows) is not scored. */
export const NAB_PROBATION_PERCENT = 0.15;

export interface NabWindowPlan {
  /** Window limits as given, epoch ms, inclusive. */
  readonly start: number;
  readonly end: number;
  /** Index of the window's first row (L), or -1 when no row falls inside it. */
  readonly first: number;
  /** Index of the window's last row (R), or -1. */
  readonly last: number;
  /** Width in rows, R - L + 1 (0 when empty). */
  readonly width: number;
  /** True when at least one row of the window lies after the probationary period. */
  readonly scored: boolean;
}

export interface NabFilePlan {
  readonly rows: number;
  /** Rows with index < probation are not scored (may be fractional for unusual percentages). */
  readonly probation: number;
  /** Sorted by start. */
  readonly windows: readonly NabWindowPlan[];
  /** Per row: index into `windows`, or -1 outside every window. */
  readonly rowWindow: Int32Array;
  /** Per row: worth of a detection here per unit weight (see module comment). */
  readonly rowWorth: Float64Array;
}

export interface NabPlanOptions {
  /** Fraction of the file not scored at the start; default 0.15 as in NAB. */
  readonly probationPercent?: number;
}

/** NAB's probationary period for a file of `rows` rows: min(floor(p·n), p·5000). */
export function nabProbation(rows: number, probationPercent = NAB_PROBATION_PERCENT): number {
  return Math.min(Math.floor(probationPercent * rows), probationPercent * 5000);
}

/**
 * Builds the plan of one file. `timestamps` are epoch ms per row (duplicates are allowed, as in
 * NAB's DST-affected files); `windows` are inclusive [start, end] pairs in the same unit.
 * Throws NabError E_NAB_WINDOWS when windows overlap or a window's rows are not contiguous.
 */
export function planNabFile(
  timestamps: ArrayLike<number>,
  windows: ReadonlyArray<readonly [number, number]>,
  options: NabPlanOptions = {},
): NabFilePlan {
  const n = timestamps.length;
  const probation = nabProbation(n, options.probationPercent);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(timestamps[i])) {
      throw new NabError('E_NAB_INPUT', `timestamp of row ${i} is not a finite number (got ${String(timestamps[i])})`);
    }
  }
  const sorted = windows
    .map(([start, end], k) => {
      if (!Number.isFinite(start) || !Number.isFinite(end) || start > end) {
        throw new NabError('E_NAB_WINDOWS', `window ${k} [${start}, ${end}]: expected finite start <= end`);
      }
      return { start, end };
    })
    .sort((a, b) => a.start - b.start);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.start <= sorted[k - 1]!.end) {
      throw new NabError('E_NAB_WINDOWS', `windows [${sorted[k - 1]!.start}, ${sorted[k - 1]!.end}] and [${sorted[k]!.start}, ${sorted[k]!.end}] overlap`);
    }
  }

  const rowWindow = new Int32Array(n).fill(-1);
  const plans: NabWindowPlan[] = sorted.map(({ start, end }, k) => {
    let first = -1;
    let last = -1;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const t = timestamps[i]!;
      if (t >= start && t <= end) {
        if (first < 0) first = i;
        last = i;
        count++;
        rowWindow[i] = k;
      }
    }
    // Positions are defined on row indices; a gap would make "width" ambiguous.
    if (count > 0 && count !== last - first + 1) {
      throw new NabError('E_NAB_WINDOWS', `window [${start}, ${end}]: its rows ${first}..${last} are not contiguous (timestamps out of order?)`);
    }
    return { start, end, first, last, width: count, scored: count > 0 && last >= probation };
  });

  const rowWorth = new Float64Array(n);
  // Windows ordered by start are also ordered by their last row (contiguous, non-overlapping).
  const byLast = plans.filter((w) => w.width > 0);
  let ended = 0;
  for (let i = 0; i < n; i++) {
    const k = rowWindow[i]!;
    if (k >= 0) {
      const w = plans[k]!;
      rowWorth[i] = scaledSigmoid(-(w.last - i + 1) / w.width) / MAX_TP_SIGMOID;
      continue;
    }
    while (ended < byLast.length && byLast[ended]!.last < i) ended++;
    const prev = ended > 0 ? byLast[ended - 1]! : undefined;
    if (!prev) {
      rowWorth[i] = -1;
    } else {
      // A one-row window has no width to scale by: distance/0 is "infinitely far", worth -1.
      rowWorth[i] = prev.width > 1 ? scaledSigmoid(Math.abs(prev.last - i) / (prev.width - 1)) : -1;
    }
  }
  return { rows: n, probation, windows: plans, rowWindow, rowWorth };
}
