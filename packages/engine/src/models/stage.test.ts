import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import sharp from 'sharp';
import { synthPumpAudio, type PumpSound } from '../../../core/src/simulator/audio.ts';
import { renderFrame } from '../../../core/src/simulator/camera.ts';
import { encodePngGray } from '../../../core/src/simulator/png.ts';
import { createRng } from '../../../core/src/simulator/prng.ts';
import { encodeWav } from '../../../core/src/simulator/wav.ts';
import { resample } from '../../../core/src/features/model-inputs.ts';
import { createPlant } from '../../../core/src/simulator/plant.ts';
import type { AudioClip, ImageFrame, MediaRef, Reading } from '../../../core/src/schema/events.ts';
import type { BlobStore } from '../runtime/types.ts';
import { createModelStage, type ModelStage } from './stage.ts';
import { resolveModelEntry } from './spec.ts';
import { loadModel } from './session.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const logger = pino({ level: 'silent' });
const T0 = Date.UTC(2025, 2, 1);
const meta = (name: string): { threshold: number } =>
  JSON.parse(readFileSync(`${ROOT}models/${name}.json`, 'utf8')) as { threshold: number };
const shipped = ['audio_ae', 'image_ae', 'sensor_forecaster', 'sensor_ae'].map((n) => ({
  id: n,
  file: `models/${n}.onnx`,
  metadata: `models/${n}.json`,
}));

function memoryBlobs(): BlobStore {
  const raw = new Map<string, Uint8Array>();
  return {
    put(bytes, contentType): Promise<MediaRef> {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      raw.set(`blob://${sha256}`, bytes);
      return Promise.resolve({ uri: `blob://${sha256}`, contentType, bytes: bytes.byteLength, sha256 });
    },
    get: (uri) => (raw.has(uri) ? Promise.resolve(raw.get(uri)!) : Promise.reject(new Error(`blob ${uri} not found`))),
  };
}

const base = { ingestTime: T0, site: 'plant-a', source: 'test' };
let blobs: BlobStore;
let stage: ModelStage;

beforeAll(async () => {
  blobs = memoryBlobs();
  stage = await createModelStage({ entries: shipped, baseDir: ROOT, blobs, logger });
});
afterAll(async () => {
  await stage.close();
});

describe('shipped models', () => {
  it('compute in onnxruntime what they computed in training (reference pair in the metadata)', async () => {
    for (const s of shipped) {
      const m = await loadModel(await resolveModelEntry(s, { baseDir: ROOT }));
      const check = m.spec.check!;
      const { data } = await m.run(Float32Array.from(check.input), check.shape[0]!);
      expect(data.length).toBe(check.output.length);
      let worst = 0;
      for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs((data[i] ?? 0) - (check.output[i] ?? 0)));
      expect(worst, s.id).toBeLessThan(1e-3);
      await m.close();
    }
  });

  it('audio: clean pump clips score under the calibrated threshold, cavitation and bearing wear above it', async () => {
    const r = createRng(9001, 'audio-test'); // not a training seed
    const sound = (over: Partial<PumpSound>): PumpSound => ({
      running: true,
      shaftHz: 24.5 * 0.8,
      load: 0.8,
      cavitation: 0,
      bearingWear: 0,
      ...over,
    });
    const clips: Array<{ kind: string; sound: PumpSound }> = [
      ...[0.35, 0.5, 0.7, 0.9, 1].map((l) => ({ kind: 'normal', sound: sound({ shaftHz: 24.5 * l, load: l }) })),
      { kind: 'normal', sound: sound({ shaftHz: 29.2, load: 1 }) },
      { kind: 'normal', sound: sound({ running: false }) },
      ...[0.3, 0.6, 1].map((c) => ({ kind: 'fault', sound: sound({ cavitation: c }) })),
      ...[0.3, 0.6, 1].map((b) => ({ kind: 'fault', sound: sound({ shaftHz: 24.7, load: 0.7, bearingWear: b }) })),
    ];
    const scores: Array<{ kind: string; value: number }> = [];
    await Promise.all(
      clips.map(async (c, i) => {
        const media = await blobs.put(encodeWav(synthPumpAudio(r, c.sound, 16000, 1000), 16000), 'audio/wav');
        const e: AudioClip = {
          kind: 'audio',
          id: `a${i}`,
          time: T0 + i * 10_000,
          ...base,
          asset: 'P-101',
          media,
          sampleRateHz: 16000,
          channels: 1,
          durationMs: 1000,
        };
        const out = await stage.derive(e);
        expect(out).toHaveLength(1);
        expect(out[0]).toMatchObject({
          kind: 'reading',
          metric: 'audio_ae_error',
          asset: 'P-101',
          time: e.time,
          unit: 'score',
          source: 'test/model:audio_ae',
        });
        scores.push({ kind: c.kind, value: out[0]!.value });
      }),
    );
    const thr = meta('audio_ae').threshold;
    const normal = scores.filter((s) => s.kind === 'normal').map((s) => s.value);
    const fault = scores.filter((s) => s.kind === 'fault').map((s) => s.value);
    expect(Math.max(...normal)).toBeLessThan(thr);
    expect(Math.min(...fault)).toBeGreaterThan(thr);
    // the batcher really batched: 13 clips × 6 patches went through in fewer calls
    expect(stage.stats()['audio_ae']!.batches).toBeLessThan(13 * 6);
  });

  it('audio: a clip recorded at 44.1 kHz is resampled to the model rate and scores like the original', async () => {
    // The synthesiser's noise colour depends on its sample rate, so the 44.1 kHz clip is the
    // 16 kHz one upsampled: the stage must bring it back to (nearly) the same score.
    const r = createRng(9005, 'resample-test');
    const thr = meta('audio_ae').threshold;
    for (const cavitation of [0, 0.6]) {
      const clip16 = synthPumpAudio(
        r,
        { running: true, shaftHz: 24.5 * 0.8, load: 0.8, cavitation, bearingWear: 0 },
        16000,
        1000,
      );
      const scores: number[] = [];
      for (const [rate, samples] of [
        [16000, clip16],
        [44100, resample(clip16, 16000, 44100)],
      ] as const) {
        const media = await blobs.put(encodeWav(samples, rate), 'audio/wav');
        const e: AudioClip = {
          kind: 'audio',
          id: `r${cavitation}-${rate}`,
          time: T0,
          ...base,
          asset: 'P-101',
          media,
          sampleRateHz: rate,
          channels: 1,
          durationMs: 1000,
        };
        scores.push((await stage.derive(e))[0]!.value);
      }
      expect(Math.abs(scores[1]! - scores[0]!) / scores[0]!).toBeLessThan(0.1);
      if (cavitation > 0) expect(scores[1]).toBeGreaterThan(thr);
      else expect(scores[1]).toBeLessThan(thr);
    }
  });

  it('image: frames with an intruder score above the threshold and the heat map points at the intruder', async () => {
    const r = createRng(9002, 'image-test');
    const thr = meta('image_ae').threshold;
    for (let i = 0; i < 12; i++) {
      const intruder = i % 2 === 1 ? { x: 15 + 6 * i, y: 42 + (i % 5) } : undefined;
      const camera = i % 4 === 0 ? 'cam-ro-hall' : 'cam-intake';
      const timeMs = T0 + i * 1_234_567;
      const media = await blobs.put(
        encodePngGray(
          96,
          64,
          renderFrame(r, { camera, width: 96, height: 64, timeMs, ...(intruder ? { intruder } : {}) }),
        ),
        'image/png',
      );
      const e: ImageFrame = {
        kind: 'image',
        id: `f${i}`,
        time: timeMs,
        ...base,
        asset: camera,
        media,
        width: 96,
        height: 64,
      };
      const d = await stage.deriveDetailed(e);
      const score = d.readings[0]!.value;
      expect(d.readings[0]!.metric).toBe('image_ae_error');
      if (!intruder) {
        expect(score, `frame ${i}`).toBeLessThan(thr);
        // Only anomalous frames get a stored overlay (the default policy).
        expect(d.heatmaps[0]?.ref, `frame ${i}`).toBeUndefined();
        expect(stage.heatmapRef(e.id)).toBeUndefined();
        continue;
      }
      expect(score, `frame ${i}`).toBeGreaterThan(thr);
      const heat = d.heatmaps[0]!;
      // The overlay is a PNG blob, four times the frame's size, found again by the frame's id.
      expect(heat.ref?.contentType).toBe('image/png');
      expect(stage.heatmapRef(e.id)).toEqual(heat.ref);
      const meta2 = await sharp(await blobs.get(heat.ref!.uri)).metadata();
      expect([meta2.format, meta2.width, meta2.height]).toEqual(['png', 384, 256]);
      expect(heat).toMatchObject({ model: 'image_ae', asset: camera, width: 96, height: 64 });
      let best = 0;
      for (let j = 1; j < heat.data.length; j++) if ((heat.data[j] ?? 0) > (heat.data[best] ?? 0)) best = j;
      const bx = best % 96;
      const by = Math.floor(best / 96);
      expect(Math.abs(bx - intruder.x), 'hottest pixel x').toBeLessThanOrEqual(5);
      expect(by - intruder.y, 'hottest pixel y').toBeGreaterThanOrEqual(-16);
      expect(by - intruder.y, 'hottest pixel y').toBeLessThanOrEqual(10);
    }
  });

  it('image: JPEG frames (decoded with sharp) score like PNG ones', async () => {
    const r = createRng(9004, 'jpeg-test');
    const thr = meta('image_ae').threshold;
    for (const intruder of [undefined, { x: 50, y: 45 }]) {
      const px = renderFrame(r, {
        camera: 'cam-intake',
        width: 96,
        height: 64,
        timeMs: T0,
        ...(intruder ? { intruder } : {}),
      });
      const jpeg = await sharp(Buffer.from(px), { raw: { width: 96, height: 64, channels: 1 } })
        .jpeg({ quality: 95 })
        .toBuffer();
      const media = await blobs.put(new Uint8Array(jpeg), 'image/jpeg');
      const e: ImageFrame = {
        kind: 'image',
        id: `j${intruder ? 1 : 0}`,
        time: T0,
        ...base,
        asset: 'cam-intake',
        media,
        width: 96,
        height: 64,
      };
      const [reading] = await stage.derive(e);
      if (intruder) expect(reading!.value).toBeGreaterThan(thr);
      else expect(reading!.value).toBeLessThan(thr);
    }
    const broken = await blobs.put(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), 'image/jpeg');
    const e: ImageFrame = {
      kind: 'image',
      id: 'jbad',
      time: T0,
      ...base,
      asset: 'cam-intake',
      media: broken,
      width: 96,
      height: 64,
    };
    await expect(stage.derive(e)).rejects.toThrow(/image event jbad .*JPEG could not be decoded/);
  });

  it('sensors: forecaster and autoencoder errors stay low on normal operation and rise during pump cavitation', async () => {
    const plant = createPlant({
      seed: 9003,
      startTime: T0,
      schedule: [{ scenario: 'pump_cavitation', at_secs: 400 }],
      audioEverySecs: 0,
      imageEverySecs: 0,
    });
    const errors: Reading[] = [];
    let label: [number, number] | undefined;
    for (const o of plant.advance(T0 + 700_000)) {
      if (o.type === 'label') label = [o.label.startTime, o.label.endTime];
      if (o.type !== 'event' || o.event.kind !== 'reading') continue;
      errors.push(...(await stage.derive({ ...o.event, ingestTime: o.event.time })));
    }
    expect(label).toBeDefined();
    const [a, b] = label!;
    expect(errors.every((e) => e.asset === 'P-101')).toBe(true);
    for (const [model, metric] of [
      ['sensor_forecaster', 'model_error'],
      ['sensor_ae', 'model_ae_error'],
    ] as const) {
      const thr = meta(model).threshold;
      const mine = errors.filter((e) => e.metric === metric);
      const before = mine.filter((e) => e.time < a).map((e) => e.value);
      const during = mine.filter((e) => e.time >= a + 30_000 && e.time <= b).map((e) => e.value);
      expect(before.length, model).toBeGreaterThan(300);
      expect(during.length, model).toBeGreaterThan(60);
      expect(before.filter((v) => v > thr).length / before.length, model).toBeLessThan(0.01);
      expect(during.filter((v) => v > thr).length / during.length, model).toBeGreaterThan(0.9);
    }
  });
});

describe('model stage state and bring-your-own-model wiring', () => {
  const peakEntry = {
    id: 'peak',
    file: 'models/fixtures/window_peak.onnx',
    modality: 'reading',
    assets: ['X-1'],
    input: { name: 'x', shape: [-1, 4, 8] },
    output: { name: 'score' },
    prepare: { kind: 'sensor_window', channels: ['a', 'b', 'c', 'd'], steps: 8, mean: [1, 0, 0, 0], std: [2, 1, 1, 1] },
    score: { kind: 'output_value' },
    metric: 'peak_score',
  };
  const rd = (t: number, metric: string, value: number, asset = 'X-1'): Reading => ({
    kind: 'reading',
    id: `${asset}-${metric}-${t}`,
    time: T0 + t * 1000,
    ...base,
    asset,
    metric,
    value,
    unit: '',
    quality: 'good',
  });

  it('a user model named in config alone scores windows exactly as its graph says', async () => {
    const s = await createModelStage({ entries: [peakEntry], baseDir: ROOT, blobs, logger });
    const out: Reading[] = [];
    for (let t = 0; t < 12; t++) {
      for (const [i, m] of ['a', 'b', 'c', 'd'].entries())
        out.push(...(await s.derive(rd(t, m, m === 'a' ? 1 + 2 * t : i * 0.1))));
      out.push(...(await s.derive(rd(t, 'a', 999, 'Y-2')))); // other asset: not selected
    }
    // a scorer sees the window ending with the newest row: rows 0..7 give the first one
    expect(out.map((r) => r.time)).toEqual([7, 8, 9, 10, 11].map((t) => T0 + t * 1000));
    // channel a normalised: (1 + 2t − 1) / 2 = t, so the peak over rows t−7..t is t
    expect(out.map((r) => r.value)).toEqual([7, 8, 9, 10, 11]);
    expect(out[0]).toMatchObject({ metric: 'peak_score', asset: 'X-1', source: 'test/model:peak', unit: 'score' });
    await s.close();
  });

  it('saving the sensor windows and restoring them gives the same scores as running straight through', async () => {
    const feed = async (s: ModelStage, from: number, to: number): Promise<number[]> => {
      const v: number[] = [];
      for (let t = from; t < to; t++)
        for (const m of ['a', 'b', 'c', 'd'])
          v.push(...(await s.derive(rd(t, m, Math.sin(t + m.charCodeAt(0))))).map((r) => r.value));
      return v;
    };
    const one = await createModelStage({ entries: [peakEntry], baseDir: ROOT, blobs, logger });
    const straight = await feed(one, 0, 20);
    const two = await createModelStage({ entries: [peakEntry], baseDir: ROOT, blobs, logger });
    const first = await feed(two, 0, 11);
    const snap = JSON.parse(JSON.stringify(two.snapshot())) as unknown;
    const three = await createModelStage({ entries: [peakEntry], baseDir: ROOT, blobs, logger });
    three.restore(snap);
    expect([...first, ...(await feed(three, 11, 20))]).toEqual(straight);
    expect(() => three.restore({ version: 1, sensors: { version: 1, tracks: { k: { rows: 'x' } } } })).toThrow(
      /track "k" is malformed/,
    );
    await Promise.all([one.close(), two.close(), three.close()]);
  });

  it('turns undecodable media into E_MODEL_INPUT naming the event', async () => {
    const media = await blobs.put(new Uint8Array([1, 2, 3, 4]), 'audio/wav');
    const e: AudioClip = {
      kind: 'audio',
      id: 'bad-clip',
      time: T0,
      ...base,
      asset: 'P-101',
      media,
      sampleRateHz: 16000,
      channels: 1,
      durationMs: 1000,
    };
    await expect(stage.derive(e)).rejects.toMatchObject({ code: 'E_MODEL_INPUT' });
    await expect(stage.derive(e)).rejects.toThrow('audio event bad-clip');
    const frame: ImageFrame = {
      kind: 'image',
      id: 'small',
      time: T0,
      ...base,
      asset: 'cam-intake',
      media: await blobs.put(encodePngGray(8, 8, new Uint8Array(64)), 'image/png'),
      width: 8,
      height: 8,
    };
    await expect(stage.derive(frame)).rejects.toThrow(/frame is 8×8 but the model expects 96×64/);
  });
});
