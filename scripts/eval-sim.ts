// Scores the embedded pipeline against the simulator's ground truth: for each labelled scenario,
// whether an incident on one of its assets overlapped it and how soon; then every incident that
// matched no label (false alarms, or consequences the labels do not cover).
// Usage: node bin/run-ts.mjs scripts/eval-sim.ts CONFIG   (its simulator must run at speed: max with duration_secs)
import { startSystem } from '../packages/engine/src/cli/run.ts';
import type { Incident, Label } from '../packages/core/src/schema/events.ts';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node bin/run-ts.mjs scripts/eval-sim.ts CONFIG\n');
  process.exit(2);
}
const sys = await startSystem({ config: file, print: () => {} });
await sys.pipeline.done;
const get = async <T>(p: string): Promise<T> => (await fetch(`${sys.url}${p}`)).json() as Promise<T>;
const labels = await get<Label[]>('/api/labels');
const incidents = await get<Incident[]>('/api/incidents?limit=1000');
const matched = new Set<string>();
const hms = (t: number) => new Date(t).toISOString().slice(11, 19);
let detected = 0;
for (const l of labels) {
  const hits = incidents.filter(
    (i) => i.startTime <= l.endTime + 60_000 && (i.endTime ?? i.lastTime) >= l.startTime && i.assets.some((a) => l.assets.includes(a)),
  );
  hits.forEach((h) => matched.add(h.id));
  const first = hits[0];
  if (first !== undefined) detected++;
  process.stdout.write(
    `${l.scenario.padEnd(20)} ${hms(l.startTime)} ${first !== undefined ? `detected, incident opened ${((first.startTime - l.startTime) / 1000).toFixed(0)} s from the start (${first.modalities.join('+')})` : 'MISSED'}\n`,
  );
}
const others = incidents.filter((i) => !matched.has(i.id));
for (const i of others) process.stdout.write(`unmatched incident ${hms(i.startTime)} [${i.assets.join(', ')}] ${i.explanation.slice(0, 140)}\n`);
process.stdout.write(`${JSON.stringify({ scenarios: labels.length, detected, incidents: incidents.length, unmatched: others.length })}\n`);
await sys.stop();
