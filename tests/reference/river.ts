/**
 * Runs River (online-ml/river) as a reference implementation, through tests/reference/river_ref.py,
 * plus the small statistics the reference checks need (seeded streams, rank correlation, AUC).
 * Test and bench code only: it spawns python3, so it lives outside the pure core.
 *
 * @example
 * const { drifts } = runRiver({ detector: 'adwin', params: { delta: 0.002 }, values: [0, 1, 0] });
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const RIVER_SCRIPT = fileURLToPath(new URL('./river_ref.py', import.meta.url));
const INSTALL_HINT =
  'The River reference checks need python3 with River: run `pip install -r tests/reference/requirements.txt` ' +
  '(python3 must be on PATH, or set RETIMU_PYTHON to the interpreter).';

export interface RiverRequest {
  detector: 'page_hinkley' | 'ddm' | 'eddm' | 'adwin' | 'hst';
  /** River constructor keyword arguments, with River's names. */
  params: Record<string, unknown>;
  values: readonly number[] | ReadonlyArray<readonly number[]>;
}

export interface RiverResult {
  drifts?: number[];
  warnings?: number[];
  scores?: number[];
  /** Seconds River spent in its update loop (excludes process start and JSON; for hst also the tree growing). */
  seconds: number;
  /** hst: seconds of the first update, which grows the trees; `updates` = rows timed by `seconds`. */
  build_seconds?: number;
  updates?: number;
  river: string;
}

export interface RiverOptions {
  /** Python interpreter; default $RETIMU_PYTHON or python3. */
  python?: string;
}

export class RiverUnavailableError extends Error {
  readonly code = 'E_RIVER_UNAVAILABLE';
}

/** Runs River on one stream. Throws RiverUnavailableError (never skips) when python3 or river is missing. */
export function runRiver(req: RiverRequest, opts: RiverOptions = {}): RiverResult {
  return runRiverBatch([req], opts)[0]!;
}

/** Runs River on several streams in one python process (importing River takes seconds). */
export function runRiverBatch(reqs: readonly RiverRequest[], opts: RiverOptions = {}): RiverResult[] {
  const python = opts.python ?? process.env.RETIMU_PYTHON ?? 'python3';
  const res = spawnSync(python, [RIVER_SCRIPT], { input: JSON.stringify(reqs), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (res.error) {
    throw new RiverUnavailableError(`cannot run ${python} (${res.error.message}). ${INSTALL_HINT}`, {
      cause: res.error,
    });
  }
  if (res.status === 3) throw new RiverUnavailableError(`${res.stderr.trim()}. ${INSTALL_HINT}`);
  if (res.status !== 0) {
    const names = reqs.map((r) => r.detector).join(', ');
    throw new Error(`river_ref.py failed for ${names} (exit ${res.status ?? res.signal}): ${res.stderr.slice(-2000)}`);
  }
  return JSON.parse(res.stdout) as RiverResult[];
}

/** mulberry32: a small seeded PRNG returning floats in [0,1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform source (Box-Muller). */
export function gaussian(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * Pairs each reference detection with the nearest unused one of ours within `tol` samples.
 * Returns how many were paired and the largest distance among pairs.
 */
export function matchDetections(
  ours: readonly number[],
  theirs: readonly number[],
  tol: number,
): { matched: number; maxDistance: number } {
  const used = new Set<number>();
  let matched = 0;
  let maxDistance = 0;
  for (const t of theirs) {
    let best = -1;
    for (let i = 0; i < ours.length; i++) {
      const d = Math.abs(ours[i]! - t);
      if (!used.has(i) && d <= tol && (best < 0 || d < Math.abs(ours[best]! - t))) best = i;
    }
    if (best >= 0) {
      used.add(best);
      matched++;
      maxDistance = Math.max(maxDistance, Math.abs(ours[best]! - t));
    }
  }
  return { matched, maxDistance };
}

function ranks(xs: readonly number[]): number[] {
  const idx = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const r = new Array<number>(xs.length).fill(0);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1]!] === xs[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1; // ties share their average rank
    for (let k = i; k <= j; k++) r[idx[k]!] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (Pearson correlation of average ranks). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i]! - ma;
    const db = rb[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** ROC AUC of scores for binary labels (1 = positive), ties counted half. */
export function auc(scores: readonly number[], labels: readonly (0 | 1)[]): number {
  const r = ranks(scores);
  let pos = 0;
  let sumPos = 0;
  for (let i = 0; i < r.length; i++) {
    if (labels[i] === 1) {
      pos++;
      sumPos += r[i]!;
    }
  }
  const neg = r.length - pos;
  return (sumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}
