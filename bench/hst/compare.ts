/**
 * Half-Space Trees throughput, ours against River's HalfSpaceTrees, measured in the same run on
 * the same data with the same shape (n_trees=25, height=15, window_size=250 by default).
 * One update = score the point, then learn it (test-then-train), for both. Growing the trees is
 * timed apart (River grows them on its first learn_one; ours in init when limits are given).
 * River runs once (its trees take about a minute to grow at height 15); ours runs `--repeat`
 * times on fresh state and the best run counts. Prints a table, then the results as JSON on the
 * last line; with --json FILE the JSON is also written there.
 *
 * @example
 * node bin/run-ts.mjs bench/hst/compare.ts                       # 2,500 points, 3 features
 * node bin/run-ts.mjs bench/hst/compare.ts --n 5000 --json hst.json
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { resolveParams } from '../../packages/core/src/detectors/params.ts';
import { NO_FINDINGS, type StepLabels, type VectorObservation } from '../../packages/core/src/detectors/contract.ts';
import { halfSpaceTrees } from '../../packages/core/src/detectors/half_space_trees/index.ts';
import { gaussian, rng, runRiver } from '../../tests/reference/river.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`bench/hst/compare.ts: --${name} expects a positive number, got ${process.argv[i + 1]}`);
  return v;
}
const jsonIdx = process.argv.indexOf('--json');
const jsonFile = jsonIdx >= 0 ? process.argv[jsonIdx + 1] : undefined;

const n = arg('n', 2500);
const dims = arg('dims', 3);
const repeat = arg('repeat', 5);
const cfg = { n_trees: arg('trees', 25), height: arg('height', 15), window_size: arg('window', 250), seed: 1 };

// A cluster in [0,1]^dims with 2% uniform outliers: the shape of data HST is meant for.
const u = rng(7);
const g = gaussian(u);
const rows = Array.from({ length: n }, () =>
  Array.from({ length: dims }, () => (u() < 0.02 / dims ? u() : Math.min(1, Math.max(0, 0.5 + 0.08 * g())))),
);
const inputs: VectorObservation[] = rows.map((values, i) => ({
  time: 1_700_000_000_000 + i * 1000,
  values,
  fields: {},
}));
const labels: StepLabels = { key: 'bench', metric: 'x', unit: '' };

function runOurs(): { buildSeconds: number; seconds: number } {
  const p = resolveParams(halfSpaceTrees, { ...cfg, limits: rows[0]!.map(() => [0, 1]) });
  const b0 = performance.now();
  const s = halfSpaceTrees.init(p);
  halfSpaceTrees.step(p, s, inputs[0]!, NO_FINDINGS, labels); // builds the trees (limits known)
  const b1 = performance.now();
  for (let i = 1; i < inputs.length; i++) halfSpaceTrees.step(p, s, inputs[i]!, NO_FINDINGS, labels);
  const t1 = performance.now();
  return { buildSeconds: (b1 - b0) / 1000, seconds: (t1 - b1) / 1000 };
}

const oursRuns = Array.from({ length: repeat }, runOurs);
const ours = oursRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const river = runRiver({ detector: 'hst', params: cfg, values: rows });
const updates = n - 1;
const oursRate = updates / ours.seconds;
const riverRate = (river.updates ?? updates) / river.seconds;

const result = {
  bench: 'hst_compare',
  config: { ...cfg, points: n, dims, repeat },
  ours: { updates_per_sec: Math.round(oursRate), seconds: ours.seconds, build_seconds: ours.buildSeconds },
  river: {
    version: river.river,
    updates_per_sec: Math.round(riverRate),
    seconds: river.seconds,
    build_seconds: river.build_seconds ?? null,
  },
  ratio: oursRate / riverRate,
  node: process.version,
};

const pad = (s: string, w: number) => s.padEnd(w);
console.log(
  `Half-Space Trees: n_trees=${cfg.n_trees} height=${cfg.height} window_size=${cfg.window_size}, ${n} points × ${dims} features`,
);
console.log(`${pad('impl', 16)}${pad('updates/s', 14)}${pad('update s', 12)}build s`);
console.log(
  `${pad('retimu-ad', 16)}${pad(String(result.ours.updates_per_sec), 14)}${pad(ours.seconds.toFixed(4), 12)}${ours.buildSeconds.toFixed(3)}`,
);
console.log(
  `${pad(`river ${river.river}`, 16)}${pad(String(result.river.updates_per_sec), 14)}${pad(river.seconds.toFixed(4), 12)}${(river.build_seconds ?? NaN).toFixed(3)}`,
);
console.log(`ratio: ${result.ratio.toFixed(1)}× River`);
console.log(JSON.stringify(result));
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(result, null, 2) + '\n');
