/**
 * Model-stage throughput: log-mel frames per second (goal ≥ 100,000) and single-window model
 * inferences per second through onnxruntime-node (goal ≥ 30,000, batched), each beside a peer
 * measured in the same run: log-mel against the generic radix-2 `powerSpectrum` of
 * features/fft.ts plus a dense filterbank; batched inference against one window per call.
 * Figures are the best of three timed runs after a warm-up; rates are given per wall second and
 * per CPU second of this process (all threads, so onnxruntime's pool is counted), since the
 * machine is shared. Prints a table, then the results as JSON on the last line.
 *
 * @example
 * node bin/run-ts.mjs bench/models/throughput.ts                 # everything, ~15 s
 * node bin/run-ts.mjs bench/models/throughput.ts --json out.json --threads 2
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createLogMelPlan } from '../../packages/core/src/features/logmel.ts';
import { powerSpectrum } from '../../packages/core/src/features/fft.ts';
import { createRng } from '../../packages/core/src/simulator/prng.ts';
import { synthPumpAudio } from '../../packages/core/src/simulator/audio.ts';
import { resolveModelEntry } from '../../packages/engine/src/models/spec.ts';
import { loadModel, type LoadedModel } from '../../packages/engine/src/models/session.ts';
import { createBatcher } from '../../packages/engine/src/models/batcher.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const threads = Number(opt('--threads') ?? 1);
const jsonOut = opt('--json');

interface Result {
  name: string;
  unit: string;
  perWallSec: number;
  perCpuSec: number;
  count: number;
}
const results: Result[] = [];

async function measure(name: string, unit: string, count: number, body: () => unknown): Promise<Result> {
  await body(); // warm-up
  let best: Result | undefined;
  for (let rep = 0; rep < 3; rep++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await body();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    const r = { name, unit, perWallSec: count / wall, perCpuSec: count / Math.max(cpu, 1e-9), count };
    if (!best || r.perWallSec > best.perWallSec) best = r;
  }
  results.push(best!);
  process.stdout.write(
    `${name.padEnd(46)} ${Math.round(best!.perWallSec).toLocaleString('en').padStart(12)} ${unit}/s wall  ${Math.round(best!.perCpuSec).toLocaleString('en').padStart(12)} ${unit}/s cpu\n`,
  );
  return best!;
}

// ---- log-mel ----
const SR = 16000;
const clip = synthPumpAudio(
  createRng(1, 'bench'),
  { running: true, shaftHz: 24.5, load: 1, cavitation: 0.3, bearingWear: 0 },
  SR,
  60_000,
);
const plan = createLogMelPlan({ sampleRateHz: SR, fftSize: 512, hopSize: 256, melBins: 32 });
const frames = plan.frameCount(clip.length);
const out = new Float32Array(frames * 32);
process.stdout.write(`log-mel: 512-point FFT, hop 256, 32 bands, ${frames} frames of a 60 s clip per run\n`);
await measure('logmel (features/logmel.ts)', 'frames', frames, () => plan.logMel(clip, out));

// Peer: the generic FFT from features/fft.ts and the dense filterbank, on the same frames.
const fb = plan.filterbank();
const win = Float64Array.from({ length: 512 }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 512));
const peerFrames = Math.min(frames, 1000);
const frame = new Float64Array(512);
await measure('peer: powerSpectrum + dense filterbank', 'frames', peerFrames, () => {
  let sink = 0;
  for (let f = 0; f < peerFrames; f++) {
    for (let i = 0; i < 512; i++) frame[i] = (clip[f * 256 + i] ?? 0) * (win[i] ?? 0);
    const p = powerSpectrum(frame);
    for (const row of fb) {
      let acc = 0;
      for (let k = 0; k < row.length; k++) acc += (row[k] ?? 0) * (p[k] ?? 0);
      sink += Math.log(Math.max(acc, 1e-10));
    }
  }
  return sink;
});

// ---- inference ----
async function load(name: string): Promise<LoadedModel> {
  return loadModel(
    await resolveModelEntry(
      { id: name, file: `models/${name}.onnx`, metadata: `models/${name}.json`, threads },
      { baseDir: ROOT },
    ),
  );
}
const sensor = await load('sensor_forecaster');
process.stdout.write(
  `inference: onnxruntime-node CPU, ${threads} intra-op thread(s); sensor window ${sensor.itemShape.join('×')}\n`,
);
const N = 20_000;
const windows = Array.from({ length: 256 }, (_, i) =>
  Float32Array.from({ length: sensor.itemSize }, (_, j) => Math.sin(i * 0.1 + j * 0.37)),
);

for (const batchMax of [256, 1024]) {
  const b = createBatcher(sensor, { batchMax, capacity: 4 * batchMax, flushMs: 0 });
  await measure(`sensor windows via batcher (batch_max ${batchMax})`, 'inferences', N, async () => {
    const pending: Array<Promise<Float32Array>> = [];
    for (let i = 0; i < N; i++) pending.push(b.submit(windows[i % windows.length]!));
    await Promise.all(pending);
  });
  await b.close();
}
const direct = new Float32Array(1024 * sensor.itemSize);
for (let i = 0; i < 1024; i++) direct.set(windows[i % windows.length]!, i * sensor.itemSize);
await measure('sensor windows, direct run of 1024 (no batcher)', 'inferences', 1024 * 20, async () => {
  for (let r = 0; r < 20; r++) await sensor.run(direct, 1024);
});
const single = 2000;
await measure('peer: one window per run (unbatched)', 'inferences', single, async () => {
  for (let i = 0; i < single; i++) await sensor.run(windows[i % windows.length]!, 1);
});

const audio = await load('audio_ae');
const patch = new Float32Array(256 * audio.itemSize).map((_, i) => Math.sin(i * 0.01));
await measure('audio AE patches (batch 256)', 'patches', 256 * 10, async () => {
  for (let r = 0; r < 10; r++) await audio.run(patch, 256);
});
const image = await load('image_ae');
const img = new Float32Array(64 * image.itemSize).map((_, i) => Math.cos(i * 0.003));
await measure('image AE frames (batch 64)', 'frames', 64 * 5, async () => {
  for (let r = 0; r < 5; r++) await image.run(img, 64);
});
await Promise.all([sensor.close(), audio.close(), image.close()]);

const json = {
  bench: 'models',
  node: process.version,
  threads,
  goals: { logmel_frames_per_sec: 100_000, inferences_per_sec: 30_000 },
  results: results.map((r) => ({ ...r, perWallSec: Math.round(r.perWallSec), perCpuSec: Math.round(r.perCpuSec) })),
};
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(json, null, 1));
process.stdout.write(`${JSON.stringify(json)}\n`);
