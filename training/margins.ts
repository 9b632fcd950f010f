/**
 * Checks the shipped models' score margins on the simulator's default scenario programme, through
 * the engine's own model stage (WAV/PNG encoding and decoding included): for each model metric,
 * the largest score outside the labelled windows of its asset (normal operation) and, per scenario, the
 * largest score inside its windows on the labelled assets. Run after `npm run train` to see
 * whether detector thresholds (examples/plant.yaml) still sit between the two.
 *
 *   node bin/run-ts.mjs training/margins.ts [--seeds 1,2,3,4,5] [--duration-secs 3600] [--models DIR]
 *   // audio_ae_error   threshold 0.549  normal max 0.47 (p99.9 0.46)  pump_cavitation min-of-max 2.1 ...
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createPlant } from '../packages/core/src/simulator/plant.ts';
import type { Label, MediaRef, Reading } from '../packages/core/src/schema/events.ts';
import type { BlobStore } from '../packages/engine/src/runtime/types.ts';
import { createModelStage } from '../packages/engine/src/models/stage.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3,4,5' },
    'duration-secs': { type: 'string', default: '3600' },
    models: { type: 'string', default: 'models' },
  },
});
const seeds = values.seeds.split(',').map(Number);
const secs = Number(values['duration-secs']);
const T0 = Date.UTC(2025, 0, 6);
const dir = resolve(ROOT, values.models); // another folder compares a previous set of models

const raw = new Map<string, Uint8Array>();
const blobs: BlobStore = {
  put(bytes, contentType): Promise<MediaRef> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    raw.set(`blob://${sha256}`, bytes);
    return Promise.resolve({ uri: `blob://${sha256}`, contentType, bytes: bytes.byteLength, sha256 });
  },
  get: (uri) => Promise.resolve(raw.get(uri)!),
};
const names = ['audio_ae', 'image_ae', 'sensor_forecaster', 'sensor_ae'];
const stage = await createModelStage({
  // The sensor models were trained on P-101 (as examples/plant.yaml attaches them).
  entries: names.map((n) => ({
    id: n,
    file: `${dir}/${n}.onnx`,
    metadata: `${dir}/${n}.json`,
    ...(n.startsWith('sensor') ? { assets: ['P-101'] } : {}),
  })),
  baseDir: ROOT,
  blobs,
  logger: pino({ level: 'silent' }),
  heatmaps: 'none',
});
const thresholds = new Map(stage.models.map((m) => [m.metric, m.threshold]));

// metric -> normal scores; metric -> scenario -> per-window maxima
const normal = new Map<string, number[]>();
const faulty = new Map<string, Map<string, number[]>>();
for (const seed of seeds) {
  const plant = createPlant({ seed, startTime: T0 });
  const labels: Label[] = [];
  const derived: Reading[] = [];
  for (const o of plant.advance(T0 + secs * 1000)) {
    if (o.type === 'label') labels.push(o.label);
    else if (o.type === 'event') {
      if (o.event.kind === 'reading') derived.push(...(await stage.derive({ ...o.event, ingestTime: o.event.time })));
    } else {
      const media = await blobs.put(o.bytes, o.contentType);
      derived.push(...(await stage.derive({ ...o.event, media, ingestTime: o.time })));
    }
    raw.clear(); // media are scored as they arrive; keep memory flat over long runs
  }
  const windowMax = new Map<string, number>();
  for (const r of derived) {
    // A label's window on its own assets, plus 2 min after it for a model's window to forget the fault.
    const hits = labels.filter(
      (l) => l.assets.includes(r.asset) && r.time >= l.startTime && r.time <= l.endTime + 120_000,
    );
    if (hits.length === 0) {
      if (!normal.has(r.metric)) normal.set(r.metric, []);
      normal.get(r.metric)!.push(r.value);
      continue;
    }
    for (const l of hits) {
      if (r.time > l.endTime) continue;
      const k = `${r.metric}\u0000${l.scenario}\u0000${l.startTime}`;
      windowMax.set(k, Math.max(windowMax.get(k) ?? -Infinity, r.value));
    }
  }
  for (const [k, v] of windowMax) {
    const [metric, scenario] = k.split('\u0000') as [string, string];
    if (!faulty.has(metric)) faulty.set(metric, new Map());
    const m = faulty.get(metric)!;
    if (!m.has(scenario)) m.set(scenario, []);
    m.get(scenario)!.push(v);
  }
}
await stage.close();

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
const f = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
process.stdout.write(`seeds ${seeds.join(',')}, ${secs} s each\n`);
for (const [metric, xs] of normal) {
  const thr = thresholds.get(metric);
  const parts = [...(faulty.get(metric) ?? new Map<string, number[]>())]
    .map(([s, v]) => `${s} ${v.length} windows, max score min ${f(Math.min(...v))} median ${f(q(v, 0.5))}`)
    .join('; ');
  process.stdout.write(
    `${metric.padEnd(15)} metadata threshold ${thr === undefined ? '-' : f(thr)}; normal n ${xs.length} max ${f(Math.max(...xs))} p99.9 ${f(q(xs, 0.999))}` +
      ` over threshold ${thr === undefined ? '-' : xs.filter((x) => x > thr).length}\n    ${parts}\n`,
  );
}
