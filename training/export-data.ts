/**
 * Exports the simulator's data for training, as raw little-endian float32 files plus a
 * manifest.json describing their shapes. Inputs are prepared by the same code the engine's model
 * stages use (packages/core/src/features/model-inputs.ts), so what is trained is what is served.
 *
 *   node bin/run-ts.mjs training/export-data.ts [OUT_DIR]     (default training/.work)
 *
 * Sets (seeds fixed): *_train and *_val are normal data only (different seeds); *_fault hold
 * faulty data for evaluation only (cavitation and bearing wear in pump audio, an intruder in
 * camera frames, the pump_cavitation scenario for P-101's sensors with per-row labels).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRng, createPlant, type Rng } from '../packages/core/src/simulator/index.ts';
import { synthPumpAudio, type PumpSound } from '../packages/core/src/simulator/audio.ts';
import { renderFrame } from '../packages/core/src/simulator/camera.ts';
import { logMelPatches, type LogMelPatchSpec } from '../packages/core/src/features/model-inputs.ts';

const out = resolve(process.argv[2] ?? 'training/.work');
mkdirSync(out, { recursive: true });
const manifest: Record<string, unknown> = {};

function save(name: string, data: Float32Array, shape: number[], extra: Record<string, unknown> = {}): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`${name}: shape ${shape.join('×')} = ${n} values, data has ${data.length}`);
  writeFileSync(join(out, `${name}.f32`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  manifest[name] = { file: `${name}.f32`, shape, ...extra };
}

// ---------- audio: log-mel patches of pump clips ----------
export const AUDIO_SPEC: LogMelPatchSpec = {
  sampleRateHz: 16000,
  fftSize: 512,
  hopSize: 256,
  melBins: 32,
  patchFrames: 16,
  patchHop: 8,
};
const CLIP_MS = 1000;
const PUMPS: Array<{ shaftHz: number; load: (r: Rng) => number }> = [
  { shaftHz: 24.5, load: (r) => r.range(0.3, 1) }, // P-101 on its VFD
  { shaftHz: 29.2, load: () => 1 }, // P-301
  { shaftHz: 24.7, load: (r) => r.range(0.3, 1) }, // P-601
];

function pumpSound(r: Rng, kind: 'normal' | 'cavitation' | 'bearing'): PumpSound {
  const p = PUMPS[r.int(PUMPS.length)]!;
  const load = p.load(r);
  // Normal clips include stopped pumps (the noise floor and mains hum) now and then.
  const running = kind !== 'normal' || r.next() > 0.08;
  const shaftHz = p.shaftHz === 24.5 ? p.shaftHz * load : p.shaftHz;
  return {
    running,
    shaftHz,
    load,
    cavitation: kind === 'cavitation' ? r.range(0.2, 1) : 0,
    bearingWear: kind === 'bearing' ? r.range(0.15, 1) : 0,
  };
}

function audioSet(
  name: string,
  seed: number,
  clips: number,
  kind: (i: number) => 'normal' | 'cavitation' | 'bearing',
): void {
  const r = createRng(seed, `train-audio-${name}`);
  let per = 0;
  const chunks: Float32Array[] = [];
  const kinds: string[] = [];
  for (let i = 0; i < clips; i++) {
    const k = kind(i);
    const samples = synthPumpAudio(r, pumpSound(r, k), AUDIO_SPEC.sampleRateHz, CLIP_MS);
    const p = logMelPatches(samples, AUDIO_SPEC);
    per = p.patches;
    chunks.push(p.data);
    kinds.push(k);
  }
  const data = new Float32Array(clips * per * AUDIO_SPEC.melBins * AUDIO_SPEC.patchFrames);
  chunks.forEach((c, i) => data.set(c, i * c.length));
  save(name, data, [clips, per, AUDIO_SPEC.melBins, AUDIO_SPEC.patchFrames], { kinds });
}

audioSet('audio_train', 101, 900, () => 'normal');
audioSet('audio_val', 102, 300, () => 'normal');
audioSet('audio_fault', 103, 200, (i) => (i % 2 === 0 ? 'cavitation' : 'bearing'));

// ---------- images: 96×64 gray camera frames, luma / 255 ----------
const W = 96;
const H = 64;
function imageSet(name: string, seed: number, frames: number, intruder: boolean): void {
  const r = createRng(seed, `train-image-${name}`);
  const data = new Float32Array(frames * W * H);
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < frames; i++) {
    const camera = intruder || r.next() < 0.5 ? 'cam-intake' : 'cam-ro-hall';
    const timeMs = t0 + Math.floor(r.range(0, 86_400_000));
    const spec = {
      camera,
      width: W,
      height: H,
      timeMs,
      ...(intruder ? { intruder: { x: r.range(8, 88), y: r.range(38, 50) } } : {}),
    };
    const px = renderFrame(r, spec);
    for (let j = 0; j < px.length; j++) data[i * W * H + j] = (px[j] ?? 0) / 255;
  }
  save(name, data, [frames, H, W]);
}
imageSet('image_train', 201, 1200, false);
imageSet('image_val', 202, 300, false);
imageSet('image_fault', 203, 200, true);

// ---------- sensors: P-101's channels at 1 Hz from the plant model ----------
export const SENSOR_CHANNELS = ['speed_pct', 'flow_m3h', 'pressure_kpa', 'vibration_mm_s', 'current_a'] as const;
function sensorSet(
  name: string,
  seed: number,
  secs: number,
  schedule: 'none' | Array<{ scenario: string; at_secs: number }>,
): void {
  const start = Date.UTC(2024, 0, 1);
  const plant = createPlant({ seed, startTime: start, schedule, audioEverySecs: 0, imageEverySecs: 0 });
  const rows = new Float32Array(secs * SENSOR_CHANNELS.length);
  const label = new Float32Array(secs);
  const last: number[] = SENSOR_CHANNELS.map(() => 0);
  const windows: Array<[number, number]> = [];
  const byTime = new Map<number, number[]>();
  for (const o of plant.advance(start + (secs - 1) * 1000)) {
    if (o.type === 'label') {
      if (o.label.assets.includes('P-101')) windows.push([o.label.startTime, o.label.endTime]);
      continue;
    }
    if (o.type !== 'event' || o.event.kind !== 'reading' || o.event.asset !== 'P-101') continue;
    const c = (SENSOR_CHANNELS as readonly string[]).indexOf(o.event.metric);
    if (c < 0) continue;
    const k = Math.round((o.event.time - start) / 1000);
    let row = byTime.get(k);
    if (!row) byTime.set(k, (row = []));
    row[c] = o.event.value;
  }
  for (let k = 0; k < secs; k++) {
    const row = byTime.get(k) ?? [];
    for (let c = 0; c < SENSOR_CHANNELS.length; c++) {
      // A missing value repeats the last one, as the model stage does.
      const v = row[c] ?? last[c]!;
      last[c] = v;
      rows[k * SENSOR_CHANNELS.length + c] = v;
    }
    const t = start + k * 1000;
    label[k] = windows.some(([a, b]) => t >= a && t <= b) ? 1 : 0;
  }
  save(name, rows, [secs, SENSOR_CHANNELS.length], { channels: SENSOR_CHANNELS });
  save(`${name}_label`, label, [secs]);
}
sensorSet('sensor_train', 301, 4 * 3600, 'none');
sensorSet('sensor_val', 302, 3600, 'none');
sensorSet('sensor_fault', 303, 3600, [
  { scenario: 'pump_cavitation', at_secs: 600 },
  { scenario: 'pump_cavitation', at_secs: 1800 },
  { scenario: 'pump_cavitation', at_secs: 3000 },
]);

manifest['audio_spec'] = AUDIO_SPEC;
manifest['image_spec'] = { width: W, height: H };
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 1));
process.stdout.write(`training data written to ${out}\n`);
