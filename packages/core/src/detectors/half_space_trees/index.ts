/**
 * half_space_trees: Half-Space Trees (Tan, Ting & Liu 2011), an online isolation-style anomaly
 * detector for multivariate streams (input 'vector'). Each tree halves a random work space
 * dimension by dimension down to `height`; a point in a region that held little mass in the last
 * full window (the reference window) is anomalous. Masses are counted in the latest window and
 * become the reference when it fills (every `window_size` points).
 *
 * Work space (as published): per tree and feature, with limits [lo, hi], s = lo + u·(hi − lo),
 * r = 2·max(s − lo, hi − s), range [s − r, s + r]; each internal node splits a uniformly chosen
 * feature at the middle of its current range. Limits come from `limits`, or are learned from the
 * first window (which then only sets the limits: scores start after two windows instead of one).
 *
 * Score (test-then-train: x is scored against the reference, then counted): the published mass
 * score of a tree is r·2^k at the node where the walk stops (depth k = height, or reference mass
 * r ≤ 0.1·window_size); lower = sparser. Its scale depends on height, dimensions and how spread
 * the data are, so it is judged against its own typical value: m = mean over trees of r·2^k,
 * typical = geometric mean of m over the scored points (an EWMA of weight 1/(4·window_size) once
 * that many points were scored: slow enough that rankings over a few windows stay the published ones),
 * ratio = m / typical, score = 1 / (1 + ratio). So 0.5 for a typical point, 0.9 for a region
 * holding a ninth of the typical mass, → 1 for an empty region; higher = more anomalous (as
 * River's), and within a window the ranking of points is exactly the published one.
 *
 * Speed: trees are flat arrays in heap order (children of j at 2j+1, 2j+2); one walk per tree
 * per update both scores and counts; no allocation per update. The end-of-window swap is lazy: a
 * node's mass is stamped with its window and rolled into the reference when next touched, so no
 * update pays O(nodes). Deterministic under `seed` (own PRNG; the seed is stored in the state).
 *
 * @example
 * const p = resolveParams(halfSpaceTrees, { n_trees: 25, height: 15, window_size: 250, limits: [[0, 100], [0, 10]] });
 * const s = halfSpaceTrees.init(p);
 * halfSpaceTrees.step(p, s, { time, values: [flow, pressure], fields: {} }, out, labels); // null while warming up
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef, type VectorObservation } from '../contract.ts';
import { ParamError } from '../params.ts';

export const HalfSpaceTreesParams = Type.Object(
  {
    n_trees: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 10,
      description: 'Number of trees (more = smoother scores, slower).',
    }),
    height: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 8,
      description: 'Depth of every tree (number of halvings along a path).',
    }),
    window_size: Type.Integer({
      minimum: 1,
      default: 250,
      description: 'Points per window: the reference mass profile is the last full window of this many points.',
    }),
    limits: Type.Array(Type.Tuple([Type.Number(), Type.Number()]), {
      default: [],
      description: 'Per feature [lo, hi] of its expected range, in value units; empty = learned from the first window.',
    }),
    seed: Type.Integer({ default: 42, description: 'Seed of the random trees (same seed, same trees, same scores).' }),
    threshold: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.9,
      description:
        'A finding is raised when the score reaches this (0.9: a region with 1/9 of the typical mass score).',
    }),
  },
  { additionalProperties: false },
);
export type HalfSpaceTreesParams = Static<typeof HalfSpaceTreesParams>;

export interface HalfSpaceTreesState {
  seed: number;
  /** Features per vector; 0 until the first input. */
  dims: number;
  /** While limits are being learned: running min/max per feature. */
  lo: number[];
  hi: number[];
  /** True once the trees exist. */
  built: boolean;
  /**
   * Internal nodes, tree-major, 2 numbers each: split feature, split value (n_trees × (2^height − 1)).
   * Interleaved so that one node's fields share a cache line: deep levels are cache misses.
   */
  splits: number[];
  /** All nodes, tree-major, 3 numbers each: latest mass, reference mass, window of the latest mass. */
  nodes: number[];
  /** Current window number (starts at 1 when the trees are built) and points counted in it. */
  win: number;
  count: number;
  /** log2 of the typical mass score: mean over the first `window_size` scored points, then an EWMA. */
  typical: number;
  /** Points scored so far (capped at TYPICAL_WINDOWS·window_size: only the EWMA's warm-up needs it). */
  scored: number;
}

/** Input vectors must keep the length of the first one (and of `limits`). */
export class HalfSpaceTreesInputError extends Error {
  readonly code = 'E_HST_DIMS';
}

/** Memory of the typical mass score, in windows. */
const TYPICAL_WINDOWS = 4;

/** Nodes above which init refuses: 3 arrays of this many numbers is already ~400 MB. */
const MAX_NODES = 1 << 24;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function build(p: HalfSpaceTreesParams, s: HalfSpaceTreesState, lo: readonly number[], hi: readonly number[]): void {
  const d = s.dims;
  const inner = 2 ** p.height - 1;
  const nodes = 2 ** (p.height + 1) - 1;
  const rand = mulberry32(s.seed);
  s.splits = new Array<number>(2 * p.n_trees * inner).fill(0);
  s.nodes = new Array<number>(3 * p.n_trees * nodes).fill(0);
  const min = new Array<number>(d).fill(0);
  const max = new Array<number>(d).fill(0);
  for (let t = 0; t < p.n_trees; t++) {
    for (let q = 0; q < d; q++) {
      const a = lo[q]!;
      const span = hi[q]! - a > 0 ? hi[q]! - a : 1; // a constant feature still gets a work range
      const sq = a + rand() * span;
      const wr = 2 * Math.max(sq - a, a + span - sq);
      min[q] = sq - wr;
      max[q] = sq + wr;
    }
    const base = t * inner;
    // Depth-first over heap indices; each split narrows one feature's range, restored on return.
    const grow = (j: number): void => {
      if (j >= inner) return;
      const q = Math.floor(rand() * d);
      const mid = (min[q]! + max[q]!) / 2;
      s.splits[2 * (base + j)] = q;
      s.splits[2 * (base + j) + 1] = mid;
      const oldMax = max[q]!;
      max[q] = mid;
      grow(2 * j + 1);
      max[q] = oldMax;
      const oldMin = min[q]!;
      min[q] = mid;
      grow(2 * j + 2);
      min[q] = oldMin;
    };
    grow(0);
  }
  s.built = true;
  s.win = 1;
  s.count = 0;
  s.lo = [];
  s.hi = [];
}

function checkDims(p: HalfSpaceTreesParams, s: HalfSpaceTreesState, x: VectorObservation): void {
  if (s.dims === 0) {
    if (x.values.length === 0)
      throw new HalfSpaceTreesInputError('half_space_trees: input vector is empty; expected at least one feature');
    if (p.limits.length > 0 && p.limits.length !== x.values.length) {
      throw new HalfSpaceTreesInputError(
        `half_space_trees: input has ${x.values.length} features but params.limits has ${p.limits.length}`,
      );
    }
    s.dims = x.values.length;
    if (p.limits.length > 0) {
      build(
        p,
        s,
        p.limits.map((l) => l[0]),
        p.limits.map((l) => l[1]),
      );
    }
  } else if (x.values.length !== s.dims) {
    throw new HalfSpaceTreesInputError(
      `half_space_trees: input has ${x.values.length} features, expected ${s.dims} like the first input`,
    );
  }
}

export const halfSpaceTrees: DetectorDef<typeof HalfSpaceTreesParams, HalfSpaceTreesState, VectorObservation> = {
  type: 'half_space_trees',
  summary:
    'Multivariate points in regions that held little mass in the last window (Half-Space Trees, Tan et al. 2011).',
  params: HalfSpaceTreesParams,
  stateVersion: 1,
  input: 'vector',
  example: `- id: pump_hst
  type: half_space_trees
  select: { metrics: [flow_m3h, pressure_bar, power_kw] }
  params: { n_trees: 25, height: 15, window_size: 250, seed: 7, limits: [[0, 60], [0, 10], [0, 90]] }
`,
  init(p) {
    const problems: Array<{ path: string; message: string }> = [];
    p.limits.forEach(([a, b], i) => {
      if (!(a < b)) problems.push({ path: `/limits/${i}`, message: `expected lo < hi, got [${a}, ${b}]` });
    });
    if (p.n_trees * (2 ** (p.height + 1) - 1) > MAX_NODES) {
      problems.push({
        path: '/height',
        message: `n_trees × 2^(height+1) must stay under ${MAX_NODES} nodes (memory); lower height or n_trees`,
      });
    }
    if (problems.length > 0) throw new ParamError('half_space_trees', problems);
    return {
      seed: p.seed,
      dims: 0,
      lo: [],
      hi: [],
      built: false,
      splits: [],
      nodes: [],
      win: 0,
      count: 0,
      typical: 0,
      scored: 0,
    };
  },
  step(p, s, x, out, labels) {
    checkDims(p, s, x);
    const v = x.values;
    if (!s.built) {
      // Learning the limits from the first window.
      for (let q = 0; q < s.dims; q++) {
        const val = v[q]!;
        if (s.count === 0 || val < s.lo[q]!) s.lo[q] = val;
        if (s.count === 0 || val > s.hi[q]!) s.hi[q] = val;
      }
      s.count += 1;
      if (s.count === p.window_size) build(p, s, s.lo, s.hi);
      return null;
    }
    const h = p.height;
    const inner = 2 ** h - 1;
    const nodes = 2 * inner + 1;
    const sizeLimit = 0.1 * p.window_size;
    const win = s.win;
    const scoring = win >= 2;
    const { splits, nodes: ns } = s;
    let total = 0;
    for (let t = 0; t < p.n_trees; t++) {
      const ib = t * inner;
      const nb = t * nodes;
      let j = 0;
      let done = !scoring;
      let pow = 1; // 2^k
      for (let k = 0; ; k++, pow *= 2) {
        const n = 3 * (nb + j);
        if (ns[n + 2] !== win) {
          // Lazy window swap: the mass counted in window win−1 becomes this node's reference.
          ns[n + 1] = ns[n + 2] === win - 1 ? ns[n]! : 0;
          ns[n] = 0;
          ns[n + 2] = win;
        }
        if (!done) {
          const r = ns[n + 1]!;
          if (k === h || r <= sizeLimit) {
            total += r * pow;
            done = true;
          }
        }
        ns[n] = ns[n]! + 1;
        if (k === h) break;
        const i2 = 2 * (ib + j);
        j = v[splits[i2]!]! < splits[i2 + 1]! ? 2 * j + 1 : 2 * j + 2;
      }
    }
    s.count += 1;
    if (s.count === p.window_size) {
      s.win += 1;
      s.count = 0;
    }
    if (!scoring) return null;
    // Mean mass score per tree, in units of the window; the floor keeps log2 finite for empty regions.
    const lq = Math.log2(total / (p.n_trees * p.window_size) + 1 / (p.n_trees * p.window_size));
    if (s.scored < TYPICAL_WINDOWS * p.window_size) s.scored += 1;
    // Warm-started EWMA: a plain mean at first, then weight 1/(TYPICAL_WINDOWS·window_size).
    if (s.scored === 1) s.typical = lq;
    const ratio = 2 ** (lq - s.typical);
    const score = 1 / (1 + ratio);
    s.typical += (lq - s.typical) / s.scored;
    if (score >= p.threshold) {
      out.finding({
        severity: score >= 1 - (1 - p.threshold) / 4 ? 'critical' : 'warning',
        reason: `${labels.metric} [${v.map(fmt).join(', ')}] lies in a sparse region: ${fmt(ratio)} × the typical mass over the last ${p.window_size} points (Half-Space Trees score ${fmt(score)} ≥ ${fmt(p.threshold)})`,
        detail: { score, mass_ratio: ratio, trees: p.n_trees, window_size: p.window_size },
      });
    }
    return score;
  },
};
