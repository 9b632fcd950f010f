/**
 * fuzzy_art: shapes the signal has not drawn before, learned as fuzzy ART categories (the
 * algorithm behind ARTime, the best published NAB detector). The signal is averaged into blocks of
 * `block_points` points; the last `blocks` block means form the input vector. A category is a
 * box (a lower and an upper corner, in value units): fuzzy ART with complement coding is exactly
 * this hyperbox form. An input resonates with a category when the box, stretched to include the
 * input, stays within `vigilance` of the value range per dimension on average (the match test);
 * the box then learns by stretching (fast learning). Among the boxes, the one needing the least
 * stretch is tried first (choice by smallest stretch, then smallest box). When no box resonates a
 * new one-point category is made: that is the novelty, scored by how far the input is from the
 * nearest box (mean distance per dimension in widths of the range), d / (d + half_distance).
 *
 * The unit of distance is the value range seen so far, widened at most `admit_excess` range widths
 * per point so one huge spike does not blind the detector (the streaming stand-in for the file
 * min/max that NAB hands its detectors and that ARTime relies on).
 * Vigilance is adapted during warm-up (ARTime's idea): over the first `min_points` points, every
 * time a new category is made the vigilance is relaxed by `warmup_relax` of itself, so a noisy
 * signal ends its warm-up with coarser categories than a clean one. After warm-up it is fixed.
 *
 * Score is given when a block completes (0 on other rows), null during warm-up.
 * Cost: O(max_categories × blocks) per block.
 *
 * @example
 * const p = resolveParams(fuzzyArt, { block_points: 8, blocks: 6, vigilance: 0.1 });
 * const s = fuzzyArt.init(p);
 * fuzzyArt.step(p, s, { time, value: 3.1, fields: {} }, out, labels);
 * // finding: "level_m: new 48-point shape (category 12), 0.31 of the range from the nearest known one"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef, type Observation } from '../contract.ts';

export const FuzzyArtParams = Type.Object(
  {
    block_points: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 8,
      description: 'Points averaged into one block, in points.',
    }),
    blocks: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 6,
      description: 'Blocks per input vector: a shape spans blocks × block_points points.',
    }),
    max_categories: Type.Integer({
      minimum: 1,
      maximum: 5000,
      default: 300,
      description: 'Memory: categories kept; beyond this the least recently resonating one is replaced.',
    }),
    vigilance: Type.Number({
      exclusiveMinimum: 0,
      default: 0.1,
      description:
        'Largest box size allowed by the match test, mean per dimension, in widths of the value range (1 − ρ of fuzzy ART).',
    }),
    warmup_relax: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description:
        'During warm-up, each new category widens the vigilance by this fraction of itself (0 = fixed vigilance).',
    }),
    max_vigilance: Type.Number({
      exclusiveMinimum: 0,
      default: 0.5,
      description: 'Upper limit of the adapted vigilance, in range widths.',
    }),
    min_points: Type.Integer({
      minimum: 0,
      default: 500,
      description: 'Warm-up in points: categories are learned but not scored.',
    }),
    half_distance: Type.Number({
      exclusiveMinimum: 0,
      default: 0.3,
      description: 'Distance of a novel shape (range widths) that scores 0.5.',
    }),
    admit_excess: Type.Number({
      minimum: 0,
      default: 3,
      description: 'The value range (the unit of distance) widens by at most this many of its widths per point.',
    }),
  },
  { additionalProperties: false },
);
export type FuzzyArtParams = Static<typeof FuzzyArtParams>;

export interface FuzzyArtState {
  n: number;
  lo: number | null;
  hi: number | null;
  acc: number;
  cnt: number;
  /** The last `blocks` block means, oldest first. */
  input: number[];
  /** Category boxes: lower and upper corners (value units), and when each last resonated. */
  lower: number[][];
  upper: number[][];
  used: number[];
  /** Current vigilance (adapted during warm-up). */
  rho: number | null;
}

export const fuzzyArt: DetectorDef<typeof FuzzyArtParams, FuzzyArtState, Observation> = {
  type: 'fuzzy_art',
  summary:
    'Shapes never drawn before, learned as fuzzy ART hyperbox categories (ARTime-style), vigilance adapted in warm-up.',
  params: FuzzyArtParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: level_shape_art
  type: fuzzy_art
  select: { metric: level_m }
  params: { block_points: 8, blocks: 6, vigilance: 0.1 }
`,
  init() {
    return { n: 0, lo: null, hi: null, acc: 0, cnt: 0, input: [], lower: [], upper: [], used: [], rho: null };
  },
  step(p, s, x, out, labels) {
    s.n++;
    if (s.lo === null || s.hi === null) {
      s.lo = x.value;
      s.hi = x.value;
    } else {
      const span0 = s.hi - s.lo;
      const cap = p.admit_excess * (span0 > 0 ? span0 : Math.abs(s.hi) > 0 ? Math.abs(s.hi) : 1);
      const v = x.value > s.hi + cap ? s.hi + cap : x.value < s.lo - cap ? s.lo - cap : x.value;
      if (v < s.lo) s.lo = v;
      if (v > s.hi) s.hi = v;
    }
    const scoring = s.n > p.min_points;
    s.acc += x.value;
    s.cnt++;
    if (s.cnt < p.block_points) return scoring ? 0 : null;
    s.input.push(s.acc / s.cnt);
    s.acc = 0;
    s.cnt = 0;
    if (s.input.length > p.blocks) s.input.shift();
    if (s.input.length < p.blocks) return scoring ? 0 : null;

    const I = s.input;
    const M = p.blocks;
    const span = s.hi - s.lo;
    const width = span > 0 ? span : 1;
    const rho = s.rho ?? p.vigilance;
    const limit = rho * M * width;
    // Choice: the box needing the least stretch (then the smallest) that passes the match test.
    let best = -1;
    let bestStretch = Infinity;
    let bestSize = Infinity;
    let nearest = Infinity;
    for (let k = 0; k < s.lower.length; k++) {
      const lk = s.lower[k]!;
      const uk = s.upper[k]!;
      let stretch = 0;
      let size = 0;
      for (let j = 0; j < M; j++) {
        const a = I[j]!;
        const l = lk[j]!;
        const u = uk[j]!;
        if (a < l) stretch += l - a;
        else if (a > u) stretch += a - u;
        size += u - l;
      }
      if (stretch < nearest) nearest = stretch;
      if (size + stretch > limit) continue;
      if (stretch < bestStretch || (stretch === bestStretch && size < bestSize)) {
        best = k;
        bestStretch = stretch;
        bestSize = size;
      }
    }
    let score: number | null = scoring ? 0 : null;
    if (best >= 0) {
      const lk = s.lower[best]!;
      const uk = s.upper[best]!;
      for (let j = 0; j < M; j++) {
        const a = I[j]!;
        if (a < lk[j]!) lk[j] = a;
        if (a > uk[j]!) uk[j] = a;
      }
      s.used[best] = s.n;
      return score;
    }
    // No resonance: a new category.
    let at: number;
    if (s.lower.length < p.max_categories) {
      at = s.lower.length;
      s.lower.push(I.slice());
      s.upper.push(I.slice());
      s.used.push(s.n);
    } else {
      at = 0;
      for (let k = 1; k < s.used.length; k++) if (s.used[k]! < s.used[at]!) at = k;
      s.lower[at] = I.slice();
      s.upper[at] = I.slice();
      s.used[at] = s.n;
    }
    if (!scoring) {
      if (p.warmup_relax > 0 && at > 0) s.rho = Math.min(p.max_vigilance, rho * (1 + p.warmup_relax));
      return score;
    }
    const d = Number.isFinite(nearest) ? nearest / M / width : 0;
    if (Number.isFinite(d) && d > 0) {
      score = d / (d + p.half_distance);
      if (d >= p.half_distance) {
        out.finding({
          severity: 'warning',
          reason: `${labels.metric}: new ${M * p.block_points}-point shape (category ${at}), ${fmt(d)} of the range from the nearest known one`,
          detail: { distance: d, categories: s.lower.length, vigilance: rho },
        });
      }
    }
    return score;
  },
};
