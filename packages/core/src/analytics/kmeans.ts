/**
 * K-Means with k-means++ seeding, the silhouette coefficient, and a k chosen by it: the k in
 * [kMin, kMax] with the highest mean silhouette (ties → the smaller k). Pure and deterministic
 * under a seed. Silhouette is O(n²), so it is computed on a deterministic evenly spaced sample
 * of at most `silhouetteSample` points.
 *
 * @example
 * const pts = [[0, 0], [0, 1], [10, 10], [10, 11]];
 * const best = chooseK(pts, { kMin: 2, kMax: 3, seed: 1 });
 * // best.k === 2, best.model.assignment → [0, 0, 1, 1] (cluster numbers may be swapped)
 */
import { createRng } from '../simulator/prng.ts';

export interface KMeansModel {
  k: number;
  centroids: number[][];
  assignment: number[];
  /** Distance of each point to its centroid. */
  distances: number[];
  /** Sum of squared distances to the assigned centroids. */
  inertia: number;
  iterations: number;
}

export interface KMeansOptions {
  seed?: number;
  /** Independent restarts; the lowest inertia wins. */
  nInit?: number;
  maxIter?: number;
  /** Stop when no centroid moves more than this (squared). */
  tolerance?: number;
}

export class AnalyticsError extends Error {
  override readonly name = 'AnalyticsError';
  constructor(
    readonly code: 'E_ANALYTICS_INPUT',
    message: string,
  ) {
    super(message);
  }
}

function sqDist(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    s += d * d;
  }
  return s;
}

function checkPoints(points: readonly (readonly number[])[], k: number): number {
  if (points.length === 0) throw new AnalyticsError('E_ANALYTICS_INPUT', 'k-means: no points');
  const dim = points[0]?.length ?? 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i] ?? [];
    if (p.length !== dim)
      throw new AnalyticsError('E_ANALYTICS_INPUT', `k-means: point ${i} has ${p.length} features, expected ${dim}`);
    if (!p.every(Number.isFinite))
      throw new AnalyticsError('E_ANALYTICS_INPUT', `k-means: point ${i} has a non-finite feature`);
  }
  if (!Number.isInteger(k) || k < 1)
    throw new AnalyticsError('E_ANALYTICS_INPUT', `k-means: k must be a positive integer, got ${k}`);
  return dim;
}

/** Points as one flat row-major array: the hot loops below run over typed memory, not nested arrays. */
function flatten(points: readonly (readonly number[])[], dim: number): Float64Array {
  const flat = new Float64Array(points.length * dim);
  points.forEach((p, i) => flat.set(p, i * dim));
  return flat;
}

function nearestFlat(
  x: Float64Array,
  i: number,
  c: Float64Array,
  k: number,
  dim: number,
): { index: number; d2: number } {
  let best = 0;
  let bestD = Infinity;
  const o = i * dim;
  for (let j = 0; j < k; j++) {
    let d = 0;
    const co = j * dim;
    for (let f = 0; f < dim; f++) {
      const v = (x[o + f] as number) - (c[co + f] as number);
      d += v * v;
    }
    if (d < bestD) {
      bestD = d;
      best = j;
    }
  }
  return { index: best, d2: bestD };
}

function once(
  x: Float64Array,
  n: number,
  dim: number,
  k: number,
  seed: number,
  maxIter: number,
  tol: number,
): KMeansModel {
  const rng = createRng(seed, 'kmeans');
  const c = new Float64Array(k * dim);
  // k-means++: each next centre drawn with probability proportional to squared distance.
  const first = rng.int(n);
  c.set(x.subarray(first * dim, first * dim + dim), 0);
  const d2 = new Float64Array(n);
  for (let i = 0; i < n; i++) d2[i] = nearestFlat(x, i, c, 1, dim).d2;
  for (let m = 1; m < k; m++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += d2[i] as number;
    let idx = 0;
    if (total > 0) {
      let r = rng.next() * total;
      for (idx = 0; idx < n - 1; idx++) {
        r -= d2[idx] as number;
        if (r < 0) break;
      }
    } else idx = rng.int(n);
    c.set(x.subarray(idx * dim, idx * dim + dim), m * dim);
    const cm = c.subarray(m * dim, m * dim + dim);
    for (let i = 0; i < n; i++) d2[i] = Math.min(d2[i] as number, nearestFlat(x, i, cm, 1, dim).d2);
  }
  const assignment = new Int32Array(n).fill(-1);
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  let iterations = 0;
  for (; iterations < maxIter; iterations++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const a = nearestFlat(x, i, c, k, dim).index;
      if (a !== assignment[i]) changed++;
      assignment[i] = a;
    }
    if (changed === 0) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const a = assignment[i] as number;
      counts[a] = (counts[a] as number) + 1;
      for (let f = 0; f < dim; f++) sums[a * dim + f] = (sums[a * dim + f] as number) + (x[i * dim + f] as number);
    }
    let moved = 0;
    for (let j = 0; j < k; j++) {
      const cnt = counts[j] as number;
      // An empty cluster keeps its centre: reseeding would make results depend on iteration order.
      if (cnt === 0) continue;
      let d = 0;
      for (let f = 0; f < dim; f++) {
        const next = (sums[j * dim + f] as number) / cnt;
        d += (next - (c[j * dim + f] as number)) ** 2;
        c[j * dim + f] = next;
      }
      moved = Math.max(moved, d);
    }
    if (moved <= tol) {
      iterations++;
      break;
    }
  }
  const distances = new Array<number>(n);
  const assign = new Array<number>(n);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const nn = nearestFlat(x, i, c, k, dim);
    assign[i] = nn.index;
    distances[i] = Math.sqrt(nn.d2);
    inertia += nn.d2;
  }
  const centroids = Array.from({ length: k }, (_, j) => Array.from(c.subarray(j * dim, j * dim + dim)));
  return { k, centroids, assignment: assign, distances, inertia, iterations };
}

export function nearest(
  p: readonly number[],
  centroids: readonly (readonly number[])[],
): { index: number; d2: number } {
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c < centroids.length; c++) {
    const d = sqDist(p, centroids[c] ?? []);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return { index: best, d2: bestD };
}

/** Lloyd's algorithm from k-means++ seeds, best of `nInit` restarts by inertia. k is capped at n. */
export function kmeans(points: readonly (readonly number[])[], k: number, opts: KMeansOptions = {}): KMeansModel {
  const dim = checkPoints(points, k);
  const kk = Math.min(k, points.length);
  const { seed = 1, nInit = 3, maxIter = 100, tolerance = 1e-10 } = opts;
  const x = flatten(points, dim);
  let best: KMeansModel | undefined;
  for (let r = 0; r < Math.max(1, nInit); r++) {
    const m = once(x, points.length, dim, kk, seed + r * 7919, maxIter, tolerance);
    if (!best || m.inertia < best.inertia) best = m;
  }
  return best as KMeansModel;
}

/** Evenly spaced indexes, at most `max` of them (deterministic, keeps time coverage). */
export function sampleIndexes(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * n) / max));
}

/**
 * Mean silhouette (Euclidean) of the points at `indexes`: for each, b − a over max(a, b), where a
 * is the mean distance to its own cluster and b to the nearest other cluster. Singletons score 0.
 */
export function silhouette(
  points: readonly (readonly number[])[],
  assignment: readonly number[],
  indexes: readonly number[],
  /** Pairwise distances of the sampled points (indexes.length²), when the caller reuses them across k. */
  dist?: Float64Array,
): number {
  const m = indexes.length;
  const k = Math.max(...indexes.map((i) => assignment[i] ?? 0)) + 1;
  if (k < 2 || m < 2) return 0;
  const d = dist ?? pairwise(points, indexes);
  const labels = indexes.map((i) => assignment[i] ?? 0);
  const sums = new Float64Array(k);
  const counts = new Int32Array(k);
  let total = 0;
  for (let a = 0; a < m; a++) {
    sums.fill(0);
    counts.fill(0);
    for (let b = 0; b < m; b++) {
      if (b === a) continue;
      const c = labels[b] as number;
      sums[c] = (sums[c] as number) + (d[a * m + b] as number);
      counts[c] = (counts[c] as number) + 1;
    }
    const own = labels[a] as number;
    if (counts[own] === 0) continue;
    const ai = (sums[own] as number) / (counts[own] as number);
    let bi = Infinity;
    for (let c = 0; c < k; c++)
      if (c !== own && (counts[c] as number) > 0) bi = Math.min(bi, (sums[c] as number) / (counts[c] as number));
    if (!Number.isFinite(bi)) continue;
    const mx = Math.max(ai, bi);
    total += mx === 0 ? 0 : (bi - ai) / mx;
  }
  return total / m;
}

/** Euclidean distances between the points at `indexes`, as a flat m × m matrix. */
export function pairwise(points: readonly (readonly number[])[], indexes: readonly number[]): Float64Array {
  const m = indexes.length;
  const d = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    const pa = points[indexes[a] as number] ?? [];
    for (let b = a + 1; b < m; b++) {
      const v = Math.sqrt(sqDist(pa, points[indexes[b] as number] ?? []));
      d[a * m + b] = v;
      d[b * m + a] = v;
    }
  }
  return d;
}

export interface ChooseKOptions extends KMeansOptions {
  kMin?: number;
  kMax?: number;
  silhouetteSample?: number;
}

export interface ChosenK {
  k: number;
  model: KMeansModel;
  candidates: Array<{ k: number; silhouette: number; inertia: number }>;
}

/** Fits k = kMin..kMax and keeps the highest mean silhouette; ties go to the smaller k. */
export function chooseK(points: readonly (readonly number[])[], opts: ChooseKOptions = {}): ChosenK {
  const { kMin = 2, kMax = 8, silhouetteSample = 600, ...km } = opts;
  checkPoints(points, kMin);
  const hi = Math.min(kMax, points.length - 1);
  const sample = sampleIndexes(points.length, silhouetteSample);
  // The sample's distances do not depend on k: computed once, reused for every candidate.
  const dist = pairwise(points, sample);
  const candidates: ChosenK['candidates'] = [];
  let best: ChosenK | undefined;
  let bestS = -Infinity;
  for (let k = kMin; k <= hi; k++) {
    const model = kmeans(points, k, km);
    const s = silhouette(points, model.assignment, sample, dist);
    candidates.push({ k, silhouette: s, inertia: model.inertia });
    // Strictly better by more than rounding noise: ties keep the smaller k.
    if (s > bestS + 1e-12) {
      bestS = s;
      best = { k, model, candidates };
    }
  }
  if (!best) {
    // Fewer than three points: one cluster is all there is.
    const model = kmeans(points, 1, km);
    return { k: 1, model, candidates: [{ k: 1, silhouette: 0, inertia: model.inertia }] };
  }
  return { ...best, candidates };
}

/** Column-wise z-scores; a constant column becomes 0 (std treated as 1) so it cannot dominate or divide by zero. */
export function standardize(rows: readonly (readonly number[])[]): { z: number[][]; means: number[]; stds: number[] } {
  const n = rows.length;
  const dim = rows[0]?.length ?? 0;
  const means = new Array<number>(dim).fill(0);
  const stds = new Array<number>(dim).fill(0);
  for (const r of rows) for (let j = 0; j < dim; j++) means[j] = (means[j] ?? 0) + (r[j] ?? 0) / n;
  for (const r of rows)
    for (let j = 0; j < dim; j++) stds[j] = (stds[j] ?? 0) + ((r[j] ?? 0) - (means[j] ?? 0)) ** 2 / n;
  for (let j = 0; j < dim; j++) {
    const s = Math.sqrt(stds[j] ?? 0);
    stds[j] = s > 1e-12 ? s : 1;
  }
  return { z: rows.map((r) => r.map((v, j) => (v - (means[j] ?? 0)) / (stds[j] ?? 1))), means, stds };
}

/** Projection on the first two principal components (power iteration with deflation), for scatter plots. */
export function pca2(rows: readonly (readonly number[])[], seed = 1): Array<[number, number]> {
  const dim = rows[0]?.length ?? 0;
  if (dim === 0) return rows.map(() => [0, 0]);
  const n = rows.length;
  const mean = new Array<number>(dim).fill(0);
  for (const r of rows) for (let j = 0; j < dim; j++) mean[j] = (mean[j] ?? 0) + (r[j] ?? 0) / n;
  const centred = rows.map((r) => r.map((v, j) => v - (mean[j] ?? 0)));
  const cov: number[][] = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
  for (const r of centred)
    for (let a = 0; a < dim; a++)
      for (let b = 0; b < dim; b++) (cov[a] as number[])[b] = (cov[a]?.[b] ?? 0) + (r[a] ?? 0) * (r[b] ?? 0);
  const rng = createRng(seed, 'pca');
  const comps: number[][] = [];
  for (let c = 0; c < Math.min(2, dim); c++) {
    let v = Array.from({ length: dim }, () => rng.next() + 0.1);
    for (let it = 0; it < 200; it++) {
      const w = cov.map((row) => row.reduce((s, x, j) => s + x * (v[j] ?? 0), 0));
      for (const prev of comps) {
        const dot = w.reduce((s, x, j) => s + x * (prev[j] ?? 0), 0);
        for (let j = 0; j < dim; j++) w[j] = (w[j] ?? 0) - dot * (prev[j] ?? 0);
      }
      const norm = Math.sqrt(w.reduce((s, x) => s + x * x, 0));
      if (norm < 1e-15) break;
      v = w.map((x) => x / norm);
    }
    comps.push(v);
  }
  return centred.map((r) => {
    const x = r.reduce((s, v, j) => s + v * (comps[0]?.[j] ?? 0), 0);
    const y = r.reduce((s, v, j) => s + v * (comps[1]?.[j] ?? 0), 0);
    return [x, y];
  });
}
