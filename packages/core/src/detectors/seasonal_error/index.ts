/**
 * seasonal_error: a periodic signal that does not repeat itself. The signal is averaged into
 * blocks of `block_points` points; the period (in blocks) is found online as the lag with the
 * highest autocorrelation of the block means (recomputed every `refresh_blocks` blocks, between
 * `min_lag_blocks` and `max_lag_blocks`, and only trusted above `min_autocorrelation`). Each new
 * block is compared with the block one period earlier; the residual (this block minus that one)
 * is judged like `range_record` judges values: a residual outside the min..max of the residuals
 * of the last `window_blocks` blocks is a new record, scored by its excess in widths of that
 * range (0.5 at `half_excess`). So a daily peak that does not come, or comes at the wrong hour,
 * stands out even when every value stays inside the usual range.
 *
 * Score is given when a block completes (0 on the other rows), null until a period is known and
 * `min_residuals` residuals were seen. No period (a non-periodic signal) means scores of 0.
 * Cost: O(history) per block for the record, O(history × lags / refresh_blocks) for the period.
 *
 * @example
 * const p = resolveParams(seasonalError, { block_points: 6, max_lag_blocks: 400 });
 * const s = seasonalError.init(p);
 * seasonalError.step(p, s, { time, value: 20.1, fields: {} }, out, labels);
 * // finding: "load_kw: block mean 20.1 differs from one period (48 blocks) earlier by -62, 0.9 of the usual range beyond it"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef, type Observation } from '../contract.ts';

export const SeasonalErrorParams = Type.Object(
  {
    block_points: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 6,
      description: 'Points averaged into one block, in points.',
    }),
    min_lag_blocks: Type.Integer({ minimum: 2, default: 12, description: 'Shortest period considered, in blocks.' }),
    max_lag_blocks: Type.Integer({
      minimum: 2,
      maximum: 10_000,
      default: 400,
      description: 'Longest period considered, in blocks (history kept: twice this).',
    }),
    refresh_blocks: Type.Integer({
      minimum: 1,
      default: 48,
      description: 'Re-estimate the period every refresh_blocks blocks.',
    }),
    min_autocorrelation: Type.Number({
      minimum: -1,
      maximum: 1,
      default: 0.5,
      description: 'A period is used only when the autocorrelation at its lag is at least this.',
    }),
    window_blocks: Type.Integer({
      minimum: 2,
      default: 500,
      description: 'History of residuals (blocks) whose min..max is the usual range.',
    }),
    min_residuals: Type.Integer({
      minimum: 1,
      default: 50,
      description: 'Warm-up: residuals needed before a score is given.',
    }),
    half_excess: Type.Number({
      exclusiveMinimum: 0,
      default: 0.3,
      description:
        'Residual excess beyond the usual residual range, in widths of it, that scores 0.5 and raises a finding.',
    }),
  },
  { additionalProperties: false },
);
export type SeasonalErrorParams = Static<typeof SeasonalErrorParams>;

export interface SeasonalErrorState {
  /** Sum and count of the block being filled. */
  acc: number;
  cnt: number;
  /** Block means, oldest first, at most 2 · max_lag_blocks. */
  blocks: number[];
  /** Blocks completed. */
  nBlocks: number;
  /** Current period in blocks, 0 = none. */
  period: number;
  /** Recent residuals, oldest first, at most window_blocks. */
  resid: number[];
  /** Residuals seen since the period last changed. */
  nResid: number;
}

/**
 * The period of xs: among lags in [minLag, maxLag] (overlapping at least half the history), the
 * shortest whose autocorrelation is a local peak within 10 % of the highest one; 0 when none
 * reaches minAcf. Multiples of a period correlate about as well as the period itself, and the
 * shortest is the one whose "one period ago" is most recent.
 */
export function bestPeriod(xs: readonly number[], minLag: number, maxLag: number, minAcf: number): number {
  const n = xs.length;
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= n;
  let den = 0;
  for (const x of xs) den += (x - mean) * (x - mean);
  const top = Math.min(maxLag, Math.floor(n / 2));
  if (!(den > 0) || top < minLag) return 0;
  // Normalised by the overlap so long lags are not penalised for having fewer pairs.
  const acf: number[] = [];
  for (let lag = minLag; lag <= top + 1; lag++) {
    let num = 0;
    for (let i = lag; i < n; i++) num += (xs[i]! - mean) * (xs[i - lag]! - mean);
    acf.push(lag < n ? (num / (n - lag)) * (n / den) : -Infinity);
  }
  let best = -Infinity;
  for (let k = 0; k <= top - minLag; k++) if (acf[k]! > best) best = acf[k]!;
  if (best < minAcf) return 0;
  for (let k = 0; k <= top - minLag; k++) {
    const a = acf[k]!;
    const peak = a >= (k > 0 ? acf[k - 1]! : -Infinity) && a >= acf[k + 1]!;
    if (a >= minAcf && a >= 0.9 * best && peak) return minLag + k;
  }
  return 0;
}

export const seasonalError: DetectorDef<typeof SeasonalErrorParams, SeasonalErrorState, Observation> = {
  type: 'seasonal_error',
  summary:
    'A periodic signal that fails to repeat: block means against one period earlier (period by autocorrelation), judged as new residual records.',
  params: SeasonalErrorParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: load_daily_shape
  type: seasonal_error
  select: { metric: load_kw }
  params: { block_points: 6, max_lag_blocks: 400, half_excess: 0.3 }
`,
  init() {
    return { acc: 0, cnt: 0, blocks: [], nBlocks: 0, period: 0, resid: [], nResid: 0 };
  },
  step(p, s, x, out, labels) {
    const ready = s.period > 0 && s.nResid >= p.min_residuals;
    s.acc += x.value;
    s.cnt++;
    if (s.cnt < p.block_points) return ready ? 0 : null;
    const m = s.acc / s.cnt;
    s.acc = 0;
    s.cnt = 0;
    s.blocks.push(m);
    if (s.blocks.length > 2 * p.max_lag_blocks) s.blocks.shift();
    s.nBlocks++;

    let score: number | null = ready ? 0 : null;
    const P = s.period;
    if (P > 0 && s.blocks.length > P) {
      const r = m - s.blocks[s.blocks.length - 1 - P]!;
      if (ready && s.resid.length > 0) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const q of s.resid) {
          if (q < lo) lo = q;
          if (q > hi) hi = q;
        }
        const w = hi - lo > 0 ? hi - lo : Math.abs(hi) > 0 ? Math.abs(hi) : 1;
        const excess = Math.max(0, r - hi, lo - r) / w;
        score = excess / (excess + p.half_excess);
        if (excess >= p.half_excess) {
          out.finding({
            severity: 'warning',
            reason: `${labels.metric}: block mean ${fmt(m)} differs from one period (${P} blocks) earlier by ${fmt(r)}, ${fmt(excess)} of the usual range beyond it`,
            detail: { block_mean: m, residual: r, period_blocks: P, excess },
          });
        }
      }
      s.resid.push(r);
      if (s.resid.length > p.window_blocks) s.resid.shift();
      s.nResid++;
    }
    if (s.nBlocks % p.refresh_blocks === 0 && s.blocks.length >= 2 * p.min_lag_blocks) {
      const P2 = bestPeriod(s.blocks, p.min_lag_blocks, p.max_lag_blocks, p.min_autocorrelation);
      if (P2 !== s.period) {
        // Residuals against another lag are not comparable: start the record again.
        s.period = P2;
        s.resid = [];
        s.nResid = 0;
      }
    }
    return score;
  },
};
