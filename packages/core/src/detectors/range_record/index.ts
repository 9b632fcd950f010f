/**
 * range_record: a value (or the mean of the last few values) that breaks out of the range the
 * signal has covered over a long history: above the highest or below the lowest of the last
 * `window_points` points. The score grows with the excess measured in widths of that range, so it
 * is unit-free: 0 inside the range, 0.5 at `half_excess` widths beyond it, tending to 1.
 * On NAB this single idea ("a new record for this signal") finds more anomalies than a z-score,
 * because it needs no distribution assumption and ignores noise that stays inside the envelope.
 *
 * Two options keep the range honest after an anomaly: `statistic: median` judges the median of the
 * last points, which spikes do not move, so a later level shift inside a spike-widened range still
 * breaks out; `admit_excess` clips what joins the history to a few range widths beyond it, so one
 * huge spike does not hide the next, smaller anomaly for a whole window.
 *
 * Window max/min are kept with monotonic queues (amortised O(1) per point); the current value is
 * judged against the history before it joins.
 *
 * @example
 * const p = resolveParams(rangeRecord, { window_points: 5000, mean_points: 20 });
 * const s = rangeRecord.init(p);
 * rangeRecord.step(p, s, { time, value: 41.2, fields: {} }, out, labels);
 * // finding: "flow_m3h mean of 20 points 41.2 is above its 5000-point max 38 by 0.15 of the range"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef, type Observation } from '../contract.ts';

export const RangeRecordParams = Type.Object(
  {
    window_points: Type.Integer({
      minimum: 2,
      maximum: 1_000_000,
      default: 5000,
      description: 'History length in points: the range is the min..max of the last window_points judged values.',
    }),
    mean_points: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 1,
      description: 'Judge the mean of the last mean_points points (1 = each value itself); smooths single-point noise.',
    }),
    min_points: Type.Integer({
      minimum: 1,
      default: 100,
      description: 'Warm-up: judged values the history must hold before a score is given (null until then).',
    }),
    half_excess: Type.Number({
      exclusiveMinimum: 0,
      default: 0.1,
      description: 'Excess beyond the range, in widths of the range (unit-free), that scores 0.5 and raises a finding.',
    }),
    statistic: Type.Union([Type.Literal('mean'), Type.Literal('median')], {
      default: 'mean',
      description:
        'What is judged over the last mean_points points: their mean, or their median (blind to short spikes, so the history of levels is not widened by them and a later level shift inside the old value range still breaks out).',
    }),
    admit_excess: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'If set, a judged value beyond the range joins the history clipped to this many range widths beyond it, so one huge spike does not hide the next, smaller anomaly; a lasting shift is still absorbed, a step at a time. Absent = values join as they are.',
      }),
    ),
    direction: Type.Union([Type.Literal('both'), Type.Literal('up'), Type.Literal('down')], {
      default: 'both',
      description: 'Which breakouts count: both, up (new highs) or down (new lows).',
    }),
  },
  { additionalProperties: false },
);
export type RangeRecordParams = Static<typeof RangeRecordParams>;

/** A monotonic queue over (index, value) pairs with a head offset, so popping the front is O(1). */
export interface MonoQueue {
  idx: number[];
  val: number[];
  head: number;
}

export interface RangeRecordState {
  /** Judged values pushed so far (the index of the next one). */
  n: number;
  /** Decreasing values: the front is the window max. */
  hi: MonoQueue;
  /** Increasing values: the front is the window min. */
  lo: MonoQueue;
  /** The last mean_points raw values (ring), and where the next one goes. */
  recent: number[];
  pos: number;
}

/** Compact the arrays once this many front entries are dead, so memory stays bounded. */
const COMPACT_AT = 1024;

function queuePush(q: MonoQueue, i: number, v: number, keepGreater: boolean, window: number): void {
  // Drop from the back what can never be the extreme again, then expire the front.
  while (q.val.length > q.head) {
    const back = q.val[q.val.length - 1]!;
    if (keepGreater ? back > v : back < v) break;
    q.val.pop();
    q.idx.pop();
  }
  q.idx.push(i);
  q.val.push(v);
  while (q.idx[q.head]! <= i - window) q.head++;
  if (q.head >= COMPACT_AT) {
    q.idx.splice(0, q.head);
    q.val.splice(0, q.head);
    q.head = 0;
  }
}

/** The q-quantile of sorted values, interpolating between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  const a = sorted[i]!;
  const b = sorted[Math.min(sorted.length - 1, i + 1)]!;
  return a + (b - a) * (h - i);
}

/** Width used to measure excess: the range, or |level| (else 1) when the history is constant. */
export function rangeWidth(lo: number, hi: number): number {
  const w = hi - lo;
  if (w > 0) return w;
  return Math.abs(hi) > 0 ? Math.abs(hi) : 1;
}

export const rangeRecord: DetectorDef<typeof RangeRecordParams, RangeRecordState, Observation> = {
  type: 'range_record',
  summary: 'Values (or short means) breaking out of the min..max range of a long history, scored in range widths.',
  params: RangeRecordParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: flow_breakout
  type: range_record
  select: { metric: flow_m3h }
  params: { window_points: 5000, mean_points: 20, half_excess: 0.1 }
`,
  init() {
    return { n: 0, hi: { idx: [], val: [], head: 0 }, lo: { idx: [], val: [], head: 0 }, recent: [], pos: 0 };
  },
  step(p, s, x, out, labels) {
    // The judged value: the input itself, or the mean (median) of the last mean_points inputs.
    if (s.recent.length < p.mean_points) s.recent.push(x.value);
    else s.recent[s.pos] = x.value;
    s.pos = (s.pos + 1) % p.mean_points;
    if (s.recent.length < p.mean_points) return null;
    let f: number;
    if (p.mean_points === 1) f = x.value;
    else if (p.statistic !== 'mean') {
      const sorted = s.recent.slice().sort((a, b) => a - b);
      f = quantile(sorted, 0.5);
    } else {
      let sum = 0;
      for (const v of s.recent) sum += v;
      f = sum / p.mean_points;
    }

    let score: number | null = null;
    const held = Math.min(s.n, p.window_points);
    if (held >= p.min_points) {
      const hi = s.hi.val[s.hi.head]!;
      const lo = s.lo.val[s.lo.head]!;
      const width = rangeWidth(lo, hi);
      const up = p.direction !== 'down' ? Math.max(0, f - hi) : 0;
      const down = p.direction !== 'up' ? Math.max(0, lo - f) : 0;
      const excess = Math.max(up, down) / width;
      score = Number.isFinite(excess) ? excess / (excess + p.half_excess) : 1;
      if (excess >= p.half_excess) {
        const what =
          p.mean_points === 1
            ? `${labels.metric} ${fmt(f)}`
            : `${labels.metric} ${p.statistic} of ${p.mean_points} points ${fmt(f)}`;
        const side = up > 0 ? `above its ${held}-point max ${fmt(hi)}` : `below its ${held}-point min ${fmt(lo)}`;
        const detail: Record<string, number> = { value: f, min: lo, max: hi, points: held };
        if (Number.isFinite(excess)) detail.excess = excess;
        out.finding({
          severity: excess >= 4 * p.half_excess ? 'critical' : 'warning',
          reason: `${what} is ${side} by ${fmt(excess)} of the range`,
          detail,
        });
      }
    }
    let admitted = f;
    if (p.admit_excess !== undefined && s.n > 0) {
      const hi = s.hi.val[s.hi.head]!;
      const lo = s.lo.val[s.lo.head]!;
      const cap = p.admit_excess * rangeWidth(lo, hi);
      if (admitted > hi + cap) admitted = hi + cap;
      else if (admitted < lo - cap) admitted = lo - cap;
    }
    queuePush(s.hi, s.n, admitted, true, p.window_points);
    queuePush(s.lo, s.n, admitted, false, p.window_points);
    s.n++;
    return score;
  },
};
