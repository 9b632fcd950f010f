// Scores the embedded pipeline against the simulator's ground truth: for each labelled scenario, whether an
// incident on one of its assets overlapped it and how soon; then every incident that matched no label.
// Usage: node bin/run-ts.mjs scripts/eval-sim.ts CONFIG   (a config whose simulator runs at speed: max with duration_secs)
import { startSystem } from '../packages/engine/src/cli/run.ts';
const sys = await startSystem({ config: process.argv[2]!, print: () => {} });
await sys.pipeline.done;
const get = async (p: string) => (await fetch(`${sys.url}${p}`)).json() as Promise<any[]>; // eslint-disable-line @typescript-eslint/no-explicit-any;
const labels = await get('/api/labels');
const inc = await get('/api/incidents?limit=1000');
const used = new Set<string>();
for (const l of labels) {
  const hits = inc.filter((i) => i.startTime <= l.endTime + 60000 && (i.endTime ?? i.lastTime) >= l.startTime && i.assets.some((a: string) => l.assets.includes(a)));
  hits.forEach((h) => used.add(h.id));
  console.log(l.scenario.padEnd(20), new Date(l.startTime).toISOString().slice(11,19), hits.length ? `DETECTED after ${((hits[0].startTime - l.startTime)/1000).toFixed(0)} s: ${hits[0].modalities} ${hits[0].explanation.slice(0,150)}` : 'MISSED');
}
for (const i of inc.filter((i) => !used.has(i.id))) console.log('other incident', new Date(i.startTime).toISOString().slice(11,19), i.assets, i.explanation.slice(0, 160));
await sys.stop();
