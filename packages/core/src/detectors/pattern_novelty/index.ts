/**
 * pattern_novelty: shapes the signal has not drawn before. The signal is cut into blocks of
 * `block_points` points (block means, which smooths noise); the last `blocks` block means form a
 * pattern. Known patterns are kept as prototypes, in the spirit of adaptive resonance (ART): a
 * pattern whose mean absolute distance to every prototype exceeds `vigilance` (in widths of the
 * value range seen so far) is novel; it is scored and learned as a new prototype. Close patterns
 * refresh their prototype; when memory is full the least recently matched one is replaced.
 *
 * Score, given when a block completes (0 on the other rows: no new pattern to judge):
 * d / (d + half_distance) for a novel pattern at distance d, else 0. Null during warm-up.
 * Catches changes of shape that stay inside the usual range (a missing daily peak, a flat stretch
 * where the signal normally moves), which range and z-score detectors cannot see.
 *
 * Cost: O(max_prototypes × blocks) once per block.
 *
 * @example
 * const p = resolveParams(patternNovelty, { block_points: 8, blocks: 6 });
 * const s = patternNovelty.init(p);
 * patternNovelty.step(p, s, { time, value: 3.1, fields: {} }, out, labels);
 * // finding: "level: new 48-point pattern, 0.42 of the range from any seen before"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef, type Observation } from '../contract.ts';

export const PatternNoveltyParams = Type.Object(
  {
    block_points: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 8,
      description: 'Points averaged into one block (the time resolution of a pattern), in points.',
    }),
    blocks: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 6,
      description: 'Blocks per pattern: a pattern spans blocks × block_points points.',
    }),
    max_prototypes: Type.Integer({
      minimum: 1,
      maximum: 5000,
      default: 300,
      description: 'Memory: known patterns kept; beyond this the least recently matched is replaced.',
    }),
    vigilance: Type.Number({
      exclusiveMinimum: 0,
      default: 0.1,
      description: 'A pattern farther than this from every known one (mean absolute distance, in widths of the value range) is novel.',
    }),
    min_points: Type.Integer({
      minimum: 0,
      default: 500,
      description: 'Warm-up in points: patterns are learned but not scored until this many points were seen.',
    }),
    half_distance: Type.Number({
      exclusiveMinimum: 0,
      default: 0.3,
      description: 'Distance of a novel pattern (in widths of the value range) that scores 0.5.',
    }),
  },
  { additionalProperties: false },
);
export type PatternNoveltyParams = Static<typeof PatternNoveltyParams>;

export interface PatternNoveltyState {
  /** Points seen. */
  n: number;
  /** Lowest and highest value seen (null before the first point). */
  lo: number | null;
  hi: number | null;
  /** Sum and count of the block being filled. */
  acc: number;
  cnt: number;
  /** The last `blocks` block means, oldest first. */
  pattern: number[];
  /** Known patterns (in value units) and the point count at which each was last matched. */
  protos: number[][];
  used: number[];
}

export const patternNovelty: DetectorDef<typeof PatternNoveltyParams, PatternNoveltyState, Observation> = {
  type: 'pattern_novelty',
  summary: 'Shapes never drawn before: recent block-mean patterns far from every learned prototype (ART-style).',
  params: PatternNoveltyParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: level_shape
  type: pattern_novelty
  select: { metric: level_m }
  params: { block_points: 8, blocks: 6, vigilance: 0.1 }
`,
  init() {
    return { n: 0, lo: null, hi: null, acc: 0, cnt: 0, pattern: [], protos: [], used: [] };
  },
  step(p, s, x, out, labels) {
    s.n++;
    if (s.lo === null || x.value < s.lo) s.lo = x.value;
    if (s.hi === null || x.value > s.hi) s.hi = x.value;
    const scoring = s.n > p.min_points;
    s.acc += x.value;
    s.cnt++;
    if (s.cnt < p.block_points) return scoring ? 0 : null;
    s.pattern.push(s.acc / s.cnt);
    s.acc = 0;
    s.cnt = 0;
    if (s.pattern.length > p.blocks) s.pattern.shift();
    if (s.pattern.length < p.blocks) return scoring ? 0 : null;

    // Nearest prototype by summed absolute difference, with early exit once worse than the best.
    const pat = s.pattern;
    let best = Infinity;
    let bestAt = -1;
    for (let k = 0; k < s.protos.length; k++) {
      const q = s.protos[k]!;
      let d = 0;
      for (let j = 0; j < p.blocks && d < best; j++) d += Math.abs(q[j]! - pat[j]!);
      if (d < best) {
        best = d;
        bestAt = k;
      }
    }
    const span = s.hi - s.lo;
    const width = span > 0 ? span : 1;
    const dist = bestAt < 0 ? 0 : best / p.blocks / width;
    let score: number | null = scoring ? 0 : null;
    if (bestAt >= 0 && dist <= p.vigilance) {
      s.used[bestAt] = s.n;
      return score;
    }
    // Novel (or the very first pattern): learn it.
    if (s.protos.length < p.max_prototypes) {
      s.protos.push(pat.slice());
      s.used.push(s.n);
    } else {
      let lru = 0;
      for (let k = 1; k < s.used.length; k++) if (s.used[k]! < s.used[lru]!) lru = k;
      s.protos[lru] = pat.slice();
      s.used[lru] = s.n;
    }
    if (scoring && bestAt >= 0 && Number.isFinite(dist)) {
      score = dist / (dist + p.half_distance);
      if (dist >= p.half_distance) {
        out.finding({
          severity: 'warning',
          reason: `${labels.metric}: new ${p.blocks * p.block_points}-point pattern, ${fmt(dist)} of the range from any seen before`,
          detail: { distance: dist, prototypes: s.protos.length, last_block_mean: pat[pat.length - 1]! },
        });
      }
    }
    return score;
  },
};
