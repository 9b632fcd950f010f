/**
 * Benchmark: log lines per second through our template mining (mask + Drain-style tree) versus
 * drain3 (PyPI) on the same labelled log in the same run, and the grouping accuracy of both
 * against the true templates (`core/src/logs/labelled.ts`). drain3 runs twice: with its example
 * masking (as we mask too) and without masking (its fastest setting, the peer of the goal).
 * Also the miner as it was before the interned-token rewrite (`core/src/logs/reference/miner_v1.ts`)
 * as a same-run before/after, and a check that both give identical template ids and texts.
 *
 * Timing is the same on both sides: CPU time of the mining loop only (process.cpuUsage here,
 * time.process_time in drain3_ref.py), the least over `--reps` passes, each on a fresh miner.
 * Ours runs one warm-up pass on another seed first (a long-running process is warm); the first,
 * cold pass is printed too. Prints a table and a JSON line.
 *
 * @example
 * node bin/run-ts.mjs bench/logs/templates.ts --lines 100000 --reps 3
 */
import { groupingAccuracy, labelledLog } from '../../packages/core/src/logs/labelled.ts';
import { DEFAULT_MINER_PARAMS, initMiner, mine, templateText } from '../../packages/core/src/logs/miner.ts';
import * as v1 from '../../packages/core/src/logs/reference/miner_v1.ts';
import { runDrain3 } from '../../tests/reference/drain3.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const n = arg('lines', 100_000);
const reps = arg('reps', 3);
const p = DEFAULT_MINER_PARAMS;
const lines = labelledLog({ seed: 1, lines: n });
const messages = lines.map((l) => l.message);
const truth = lines.map((l) => l.template);

interface Run {
  seconds: number;
  wall: number;
  ids: number[];
  templates: number;
  texts: string[];
}

/** CPU seconds (user + system) of this process since `from`. */
const cpuSince = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
};

function ours(): Run {
  const m = initMiner();
  const ids = new Array<number>(messages.length);
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < messages.length; i++) ids[i] = mine(p, m, messages[i]!).id;
  const seconds = cpuSince(c0);
  const wall = (performance.now() - w0) / 1000;
  const texts = Object.keys(m.clusters).map((id) => `${id} ${templateText(m, Number(id))}`);
  return { seconds, wall, ids, templates: m.size, texts };
}

function before(): Run {
  const m = v1.initMiner();
  const ids = new Array<number>(messages.length);
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < messages.length; i++) ids[i] = v1.mine(p, m, messages[i]!).id;
  const seconds = cpuSince(c0);
  const wall = (performance.now() - w0) / 1000;
  const texts = Object.keys(m.clusters).map((id) => `${id} ${v1.templateText(m, Number(id))}`);
  return { seconds, wall, ids, templates: m.size, texts };
}

const fastest = (runs: readonly Run[]): Run => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

const cold = ours();
const warmUp = labelledLog({ seed: 99, lines: Math.min(n, 50_000) });
const mw = initMiner();
const mw1 = v1.initMiner();
for (const l of warmUp) {
  mine(p, mw, l.message);
  v1.mine(p, mw1, l.message);
}
// Interleaved, so that a burst of load from other processes hits both alike.
const runsNew: Run[] = [];
const runsOld: Run[] = [];
for (let r = 0; r < reps; r++) {
  runsOld.push(before());
  runsNew.push(ours());
}
const best = fastest(runsNew);
const old = fastest(runsOld);
const identical =
  old.ids.length === best.ids.length &&
  old.ids.every((id, i) => id === best.ids[i]) &&
  JSON.stringify(old.texts) === JSON.stringify(best.texts);

const cfg = { sim_th: p.sim_threshold, depth: p.depth, max_children: p.max_children, max_clusters: p.max_clusters };
const dMasked = runDrain3({ messages, config: cfg, masking: true, reps });
const dPlain = runDrain3({ messages, config: cfg, masking: false, reps });

const row = (name: string, seconds: number, wall: number, ids: readonly number[], templates: number) => ({
  name,
  lines_per_sec: Math.round(n / seconds),
  wall_lines_per_sec: Math.round(n / wall),
  grouping_accuracy: Number(groupingAccuracy(truth, ids).toFixed(4)),
  templates,
});
const rows = [
  row('retimu (warm, best of reps)', best.seconds, best.wall, best.ids, best.templates),
  row('retimu v1 before (warm, best)', old.seconds, old.wall, old.ids, old.templates),
  row('retimu (cold, first pass)', cold.seconds, cold.wall, cold.ids, cold.templates),
  row(
    `drain3 ${dMasked.drain3} (masking)`,
    dMasked.seconds,
    dMasked.wall_seconds,
    dMasked.ids,
    Object.keys(dMasked.templates).length,
  ),
  row(
    `drain3 ${dPlain.drain3} (no masking)`,
    dPlain.seconds,
    dPlain.wall_seconds,
    dPlain.ids,
    Object.keys(dPlain.templates).length,
  ),
];
console.log(`labelled log: ${n} lines, 48 true templates; same log, same run; CPU time, best of ${reps}`);
for (const r of rows)
  console.log(
    `${r.name.padEnd(32)} ${String(r.lines_per_sec).padStart(9)} lines/s (wall ${String(r.wall_lines_per_sec).padStart(9)})   GA ${r.grouping_accuracy.toFixed(4)}   ${r.templates} templates`,
  );
const speedup = {
  vs_drain3_masking: rows[0]!.lines_per_sec / rows[3]!.lines_per_sec,
  vs_drain3_no_masking: rows[0]!.lines_per_sec / rows[4]!.lines_per_sec,
  vs_v1: rows[0]!.lines_per_sec / rows[1]!.lines_per_sec,
};
console.log(
  `speed-up (warm, CPU): ${speedup.vs_drain3_masking.toFixed(1)}× drain3 with masking, ${speedup.vs_drain3_no_masking.toFixed(1)}× without; ${speedup.vs_v1.toFixed(2)}× v1; ids and templates identical to v1: ${identical}`,
);
console.log(JSON.stringify({ bench: 'log_templates', lines: n, reps, rows, speedup, identical_to_v1: identical }));
if (!identical) process.exitCode = 1;
