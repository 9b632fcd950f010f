/**
 * Benchmark: how many simulated seconds the plant model produces per wall-clock second, with
 * and without media synthesis (the media codecs dominate). Prints a table and a JSON line.
 *
 * @example
 * node bin/run-ts.mjs packages/engine/src/sources/simulator/bench.ts 600
 */
import { createPlant } from '../../../../core/src/simulator/plant.ts';

const simSecs = Number(process.argv[2] ?? 600);
const start = Date.UTC(2024, 0, 1);
const cases = [
  { name: 'readings+logs', audioEverySecs: 0, imageEverySecs: 0 },
  { name: 'all modalities', audioEverySecs: 10, imageEverySecs: 5 },
];
const results = cases.map((c) => {
  const plant = createPlant({ seed: 1, startTime: start, audioEverySecs: c.audioEverySecs, imageEverySecs: c.imageEverySecs });
  const t0 = performance.now();
  const outs = plant.advance(start + simSecs * 1000 - 1);
  const wallS = (performance.now() - t0) / 1000;
  return { case: c.name, simSecs, wallS: Number(wallS.toFixed(3)), speedup: Math.round(simSecs / wallS), outputs: outs.length };
});
for (const r of results) process.stdout.write(`${r.case.padEnd(16)} ${String(r.speedup).padStart(7)}x real time  (${r.outputs} outputs in ${r.wallS} s)\n`);
process.stdout.write(JSON.stringify({ bench: 'simulator', results }) + '\n');
