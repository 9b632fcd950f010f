/**
 * adwin: ADaptive WINdowing (Bifet & Gavaldà 2007, ADWIN2) for a change in the mean of a stream,
 * e.g. a model's error. The window is kept compressed as an exponential histogram: level i holds
 * up to `max_buckets` buckets of 2^i values each (sum and variance per bucket), so memory is
 * O(max_buckets · log W). Every `clock` values, each split of the window at a bucket boundary
 * into an older part W0 and a newer part W1 is tested:
 *
 *   |μ0 − μ1| > ε,  ε = sqrt(2·m·σ²·δ′) + (2/3)·δ′·m,  m = 1/(n0−k+1) + 1/(n1−k+1),
 *   δ′ = ln(2·ln(W)/delta),  σ² = variance of the whole window, k = min_window_length
 *
 * and while some split passes, the oldest bucket is dropped (the published ADWIN shrinks its
 * window rather than restarting).
 *
 * One change often takes several shrinks: the window kept after the first cut still holds a
 * remnant of the old regime, cut later as new values arrive. Such a cut drops only values that
 * were already in the window when the change was reported, so it is the same change and is not
 * reported again (River restarts its window instead, which has the same effect on detections).
 * Score = max |μ0 − μ1| / ε over the splits of the last check, clamped to [0,1]; 1 exactly when
 * a change is reported; repeated between checks.
 *
 * State is plain JSON: per level two number arrays (oldest bucket first).
 *
 * @example
 * const p = resolveParams(adwin, { delta: 0.002, clock: 32 });
 * const s = adwin.init(p);
 * adwin.step(p, s, { time, value: err, fields: {} }, out, labels);
 * // "model_error mean rose from 0.1 to 0.42 (ADWIN |Δμ| 0.32 > ε 0.05; window 1200 → 260)"
 */
import { Type, type Static } from '@sinclair/typebox';
import { clamp01, fmt, type DetectorDef, type Observation } from '../contract.ts';

export const AdwinParams = Type.Object(
  {
    delta: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.002,
      description: 'Confidence: probability bound of a false change per check (smaller = fewer, later detections).',
    }),
    clock: Type.Integer({
      minimum: 1,
      default: 32,
      description: 'Check for a change every this many values (1 = every value; higher = cheaper, later).',
    }),
    max_buckets: Type.Integer({
      minimum: 2,
      maximum: 1000,
      default: 5,
      description:
        'Buckets kept per histogram level before the two oldest merge (higher = finer cut points, more memory).',
    }),
    min_window_length: Type.Integer({
      minimum: 1,
      default: 5,
      description: 'Values each side of a split must hold for the split to be tested.',
    }),
    grace_period: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Warm-up: values in the window before the first check (score null until then).',
    }),
  },
  { additionalProperties: false },
);
export type AdwinParams = Static<typeof AdwinParams>;

export interface AdwinLevel {
  /** Sums of the buckets at this level, oldest first; each bucket holds 2^level values. */
  tot: number[];
  /** Sums of squared deviations from each bucket's own mean. */
  vr: number[];
}

export interface AdwinState {
  levels: AdwinLevel[];
  /** Values in the window, their sum, and their sum of squared deviations from the window mean. */
  width: number;
  total: number;
  variance: number;
  /** Values seen (drives the clock). */
  seen: number;
  /** Score of the last check, repeated until the next; null before the first. */
  score: number | null;
  changes: number;
  /** How many of the values in the window were already there when the last change was reported. */
  remnant: number;
}

function insert(p: AdwinParams, s: AdwinState, x: number): void {
  s.width += 1;
  if (s.width > 1) {
    const d = x - s.total / (s.width - 1);
    s.variance += ((s.width - 1) * d * d) / s.width;
  }
  s.total += x;
  let lv = s.levels[0];
  if (lv === undefined) s.levels.push((lv = { tot: [], vr: [] }));
  lv.tot.push(x);
  lv.vr.push(0);
  // Compress: a level over capacity merges its two oldest buckets into one of the next level.
  for (let i = 0; i < s.levels.length; i++) {
    const cur = s.levels[i]!;
    if (cur.tot.length <= p.max_buckets) break;
    const n = 2 ** i;
    const t1 = cur.tot[0]!;
    const t2 = cur.tot[1]!;
    const dm = t1 / n - t2 / n;
    const v = cur.vr[0]! + cur.vr[1]! + (n * n * dm * dm) / (2 * n);
    cur.tot.splice(0, 2);
    cur.vr.splice(0, 2);
    let next = s.levels[i + 1];
    if (next === undefined) s.levels.push((next = { tot: [], vr: [] }));
    // Merged buckets are newer than every bucket already at the next level: they go last.
    next.tot.push(t1 + t2);
    next.vr.push(v);
  }
}

/** Drops the oldest bucket; returns its size and sum. */
function dropOldest(s: AdwinState): { n: number; t: number } {
  const L = s.levels.length - 1;
  const lv = s.levels[L]!;
  const n = 2 ** L;
  const t = lv.tot.shift()!;
  const v = lv.vr.shift()!;
  if (lv.tot.length === 0) s.levels.pop();
  const n2 = s.width - n;
  const t2 = s.total - t;
  if (n2 > 0) {
    // Whole = dropped ∪ rest: V = v + v2 + n·n2/W·(μ_dropped − μ_rest)², solved for v2.
    const dm = t / n - t2 / n2;
    s.variance = Math.max(0, s.variance - v - ((n * n2) / s.width) * dm * dm);
  } else {
    s.variance = 0;
  }
  s.width = n2;
  s.total = t2;
  return { n, t };
}

/** One scan over the splits: returns the largest |Δμ|/ε and whether some split exceeded ε. */
function scan(p: AdwinParams, s: AdwinState): { ratio: number; cut: boolean; diff: number; eps: number } {
  const W = s.width;
  const sigma2 = s.variance / W;
  const dd = Math.log((2 * Math.log(W)) / p.delta);
  let n0 = 0;
  let u0 = 0;
  let best = { ratio: 0, cut: false, diff: 0, eps: 0 };
  for (let L = s.levels.length - 1; L >= 0; L--) {
    const lv = s.levels[L]!;
    const n = 2 ** L;
    for (let k = 0; k < lv.tot.length; k++) {
      n0 += n;
      u0 += lv.tot[k]!;
      const n1 = W - n0;
      if (n1 <= 0) return best;
      const k0 = p.min_window_length;
      if (n0 < k0 || n1 < k0) continue;
      const m = 1 / (n0 - k0 + 1) + 1 / (n1 - k0 + 1);
      const eps = Math.sqrt(2 * m * sigma2 * dd) + (2 / 3) * dd * m;
      const diff = Math.abs(u0 / n0 - (s.total - u0) / n1);
      const ratio = diff / eps;
      if (ratio > best.ratio) best = { ratio, cut: diff > eps, diff, eps };
      if (diff > eps) return best;
    }
  }
  return best;
}

export const adwin: DetectorDef<typeof AdwinParams, AdwinState, Observation> = {
  type: 'adwin',
  summary: 'Change in the mean of a stream (e.g. a model error) by adaptive windowing (ADWIN, Bifet & Gavaldà 2007).',
  params: AdwinParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: pump_model_drift
  type: adwin
  select: { metric: pump_model_error }
  params: { delta: 0.002, clock: 32, max_buckets: 5 }
`,
  init() {
    return { levels: [], width: 0, total: 0, variance: 0, seen: 0, score: null, changes: 0, remnant: 0 };
  },
  step(p, s, x, out, labels) {
    insert(p, s, x.value);
    s.seen += 1;
    if (s.seen % p.clock !== 0 || s.width <= p.grace_period) return s.score;
    const widthBefore = s.width;
    const first = scan(p, s);
    s.score = clamp01(first.ratio);
    if (!first.cut) return s.score;
    let droppedN = 0;
    let droppedT = 0;
    for (let r = first; r.cut && s.width > 0; r = scan(p, s)) {
      const d = dropOldest(s);
      droppedN += d.n;
      droppedT += d.t;
    }
    if (droppedN <= s.remnant) {
      // Only leftovers of the change already reported: shrink quietly (see the module comment).
      s.remnant -= droppedN;
      s.score = clamp01(scan(p, s).ratio);
      return s.score;
    }
    const before = droppedT / droppedN;
    const after = s.width > 0 ? s.total / s.width : x.value;
    s.remnant = s.width;
    s.changes += 1;
    s.score = 1;
    out.finding({
      severity: 'warning',
      reason: `${labels.metric} mean ${after >= before ? 'rose' : 'fell'} from ${fmt(before)} to ${fmt(after)} (ADWIN |Δμ| ${fmt(first.diff)} > ε ${fmt(first.eps)}; window ${widthBefore} → ${s.width})`,
      detail: {
        mean_before: before,
        mean_after: after,
        diff: first.diff,
        epsilon: first.eps,
        width_before: widthBefore,
        width: s.width,
      },
    });
    return s.score;
  },
};
