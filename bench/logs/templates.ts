/**
 * Benchmark: log lines per second through our template mining (mask + Drain-style tree) versus
 * drain3 (PyPI) on the same labelled log in the same run, and the grouping accuracy of both
 * against the true templates (`core/src/logs/labelled.ts`). drain3 runs twice: with its example
 * masking (the like-for-like peer, as we mask too) and without masking (its fastest setting).
 * Prints a table and a JSON line. Ours is timed over `--reps` passes after one warm-up pass on
 * another seed (steady state of a long-running process); the first, cold pass is printed too.
 *
 * @example
 * node bin/run-ts.mjs bench/logs/templates.ts --lines 100000
 */
import { groupingAccuracy, labelledLog } from '../../packages/core/src/logs/labelled.ts';
import { DEFAULT_MINER_PARAMS, initMiner, mine } from '../../packages/core/src/logs/miner.ts';
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

function ours(): { seconds: number; ids: number[]; templates: number } {
  const m = initMiner();
  const ids = new Array<number>(messages.length);
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i++) ids[i] = mine(p, m, messages[i]!).id;
  return { seconds: (performance.now() - t0) / 1000, ids, templates: m.size };
}

const cold = ours();
const warm = initMiner();
for (const l of labelledLog({ seed: 99, lines: Math.min(n, 50_000) })) mine(p, warm, l.message);
const runs = Array.from({ length: reps }, () => ours());
const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const cfg = { sim_th: p.sim_threshold, depth: p.depth, max_children: p.max_children, max_clusters: p.max_clusters };
const dMasked = runDrain3({ messages, config: cfg, masking: true });
const dPlain = runDrain3({ messages, config: cfg, masking: false });

const row = (name: string, seconds: number, ids: readonly number[], templates: number) => ({
  name,
  lines_per_sec: Math.round(n / seconds),
  grouping_accuracy: Number(groupingAccuracy(truth, ids).toFixed(4)),
  templates,
});
const rows = [
  row('retimu (warm, best of reps)', best.seconds, best.ids, best.templates),
  row('retimu (cold, first pass)', cold.seconds, cold.ids, cold.templates),
  row(`drain3 ${dMasked.drain3} (masking)`, dMasked.seconds, dMasked.ids, Object.keys(dMasked.templates).length),
  row(`drain3 ${dPlain.drain3} (no masking)`, dPlain.seconds, dPlain.ids, Object.keys(dPlain.templates).length),
];
console.log(`labelled log: ${n} lines, 48 true templates; same log, same run`);
for (const r of rows)
  console.log(
    `${r.name.padEnd(32)} ${String(r.lines_per_sec).padStart(9)} lines/s   GA ${r.grouping_accuracy.toFixed(4)}   ${r.templates} templates`,
  );
const speedup = {
  vs_drain3_masking: rows[0]!.lines_per_sec / rows[2]!.lines_per_sec,
  vs_drain3_no_masking: rows[0]!.lines_per_sec / rows[3]!.lines_per_sec,
};
console.log(
  `speed-up (warm): ${speedup.vs_drain3_masking.toFixed(1)}× drain3 with masking, ${speedup.vs_drain3_no_masking.toFixed(1)}× without`,
);
console.log(JSON.stringify({ bench: 'log_templates', lines: n, rows, speedup }));
