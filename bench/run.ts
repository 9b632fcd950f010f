/**
 * `npm run bench`: every benchmark in one run, a readable summary, and one JSON file.
 *
 *  1. detector throughput (bench/detectors/throughput.ts): updates per CPU-second of every
 *     detector on 1 key and on 10,000 keys, against the goal of 30 M simple-statistic updates/s
 *     per core with keyed state;
 *  2. Half-Space Trees against River's HalfSpaceTrees, same trees/height/window and data, in the
 *     same run (bench/hst/compare.ts; needs python3 with River), against the goal of 10× River;
 *  3. embedded-store appends (bench/storage/append.ts).
 *
 * Results go to data/bench/latest.json (data/ is git-ignored; benchmarks are machine-specific).
 * Benchmarks 2 and 3 run as child processes; a failing one is reported and the others still run
 * (exit code 1 at the end).
 *
 * @example
 * npm run bench
 * node bin/run-ts.mjs bench/run.ts --only rolling_zscore,ema_baseline --skip hst,storage
 * node bin/run-ts.mjs bench/run.ts --out /tmp/bench.json --updates 2000000
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatResult, runThroughput, type ThroughputResult } from './detectors/throughput.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUN_TS = join(ROOT, 'bin/run-ts.mjs');

/** Detectors that keep simple running statistics: the ones the 30 M updates/s goal is about. */
export const SIMPLE_STATISTICS = ['rolling_zscore', 'ema_baseline', 'threshold_duration'] as const;
const GOAL_UPDATES_PER_SEC = 30e6;
const GOAL_HST_RATIO = 10;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const only = argValue('only')?.split(',');
const skip = new Set(argValue('skip')?.split(',') ?? []);
const outFile = resolve(argValue('out') ?? join(ROOT, 'data/bench/latest.json'));
const updates = Number(argValue('updates') ?? 1_000_000);
if (!Number.isInteger(updates) || updates <= 0)
  throw new Error(`bench/run.ts: --updates expects a positive integer, got ${argValue('updates')}`);

/** Runs a bench program as a child; returns its last stdout line parsed as JSON, or an error text. */
function child(file: string, args: string[]): { json?: unknown; error?: string } {
  const res = spawnSync(process.execPath, [RUN_TS, join(ROOT, file), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const lines = (res.stdout ?? '').trim().split('\n');
  for (const l of lines.slice(0, -1)) process.stdout.write(`  ${l}\n`);
  if (res.status !== 0)
    return { error: `${file} exited with ${res.status ?? res.signal}: ${(res.stderr ?? '').trim().slice(-1500)}` };
  try {
    return { json: JSON.parse(lines.at(-1) ?? '') as unknown };
  } catch {
    return { error: `${file} did not end with a JSON line` };
  }
}

const started = new Date();
const errors: string[] = [];

process.stdout.write(
  `\n== detector throughput (updates per CPU-second; ${updates.toLocaleString('en')} updates per figure)\n`,
);
const throughput: ThroughputResult[] = skip.has('detectors')
  ? []
  : runThroughput({
      ...(only === undefined ? {} : { only }),
      updates,
      onResult: (r) => process.stdout.write(`  ${formatResult(r)}\n`),
    });

let hst: unknown = null;
if (!skip.has('hst')) {
  process.stdout.write('\n== Half-Space Trees vs River (same trees, height, window and data)\n');
  const dir = mkdtempSync(join(tmpdir(), 'retimu-bench-'));
  try {
    const file = join(dir, 'hst.json');
    const r = child('bench/hst/compare.ts', ['--json', file]);
    if (r.error !== undefined) errors.push(r.error);
    else hst = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let storage: unknown = null;
if (!skip.has('storage')) {
  process.stdout.write('\n== embedded store appends\n');
  const r = child('bench/storage/append.ts', [argValue('batches') ?? '100']);
  if (r.error !== undefined) errors.push(r.error);
  else storage = r.json;
}

// Summary against the goals.
const simple = throughput.filter((r) => (SIMPLE_STATISTICS as readonly string[]).includes(r.detector));
const keyed = simple.filter((r) => r.keys >= 10_000);
const worstKeyed = keyed.reduce<ThroughputResult | undefined>(
  (a, r) => (a === undefined || r.updatesPerSec < a.updatesPerSec ? r : a),
  undefined,
);
const ratio = (hst as { ratio?: unknown } | null)?.ratio;
const goals = {
  simple_statistics_keyed: {
    goal_updates_per_sec: GOAL_UPDATES_PER_SEC,
    worst:
      worstKeyed === undefined
        ? null
        : { detector: worstKeyed.detector, config: worstKeyed.config, updates_per_sec: worstKeyed.updatesPerSec },
    met: worstKeyed === undefined ? null : worstKeyed.updatesPerSec >= GOAL_UPDATES_PER_SEC,
  },
  hst_vs_river: {
    goal_ratio: GOAL_HST_RATIO,
    ratio: typeof ratio === 'number' ? ratio : null,
    met: typeof ratio === 'number' ? ratio >= GOAL_HST_RATIO : null,
  },
};

process.stdout.write('\n== summary\n');
const pad = (s: string, w: number) => s.padEnd(w);
process.stdout.write(
  `  ${pad('detector', 20)}${pad('config', 36)}${pad('1 key', 12)}${pad('10,000 keys', 12)}goal 30 M/s\n`,
);
for (const name of SIMPLE_STATISTICS) {
  for (const r1 of simple.filter((r) => r.detector === name && r.keys === 1)) {
    const rk = simple.find((r) => r.detector === name && r.config === r1.config && r.keys > 1);
    const m = (x: number | undefined) => (x === undefined ? '-' : `${(x / 1e6).toFixed(1)} M/s`);
    const met = rk !== undefined && rk.updatesPerSec >= GOAL_UPDATES_PER_SEC ? 'met' : 'not met';
    process.stdout.write(
      `  ${pad(name, 20)}${pad(r1.config, 36)}${pad(m(r1.updatesPerSec), 12)}${pad(m(rk?.updatesPerSec), 12)}${met}\n`,
    );
  }
}
if (goals.hst_vs_river.ratio !== null)
  process.stdout.write(
    `  half_space_trees vs River: ${goals.hst_vs_river.ratio.toFixed(1)}× (goal ${GOAL_HST_RATIO}×: ${goals.hst_vs_river.met ? 'met' : 'not met'})\n`,
  );

const report = {
  started: started.toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cpus: cpus().length,
  goals,
  throughput,
  hst,
  storage,
  errors,
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
process.stdout.write(`\nwrote ${outFile}\n`);
for (const e of errors) process.stderr.write(`bench error: ${e}\n`);
if (errors.length > 0) process.exitCode = 1;
