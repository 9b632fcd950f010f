import { describe, it, expect, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Value } from '@sinclair/typebox/value';
import { synthPumpAudio } from '../../../core/src/simulator/audio.ts';
import { renderFrame } from '../../../core/src/simulator/camera.ts';
import { encodePngGray } from '../../../core/src/simulator/png.ts';
import { createRng } from '../../../core/src/simulator/prng.ts';
import { encodeWav } from '../../../core/src/simulator/wav.ts';
import { Reading, type AudioClip, type ImageFrame, type MediaRef } from '../../../core/src/schema/events.ts';
import { createFsBlobStore } from '../storage/blobs.ts';
import { createMediaFeatureStage, MediaFeatureError } from './media-features.ts';
import type { BlobStore } from './types.ts';

const logger = pino({ level: 'silent' });
const T0 = 1_700_000_000_000;

/** An in-memory content-addressed blob store (the real one is exercised once below). */
function memoryBlobs(): BlobStore & { raw: Map<string, Uint8Array> } {
  const raw = new Map<string, Uint8Array>();
  return {
    raw,
    put(bytes, contentType): Promise<MediaRef> {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      raw.set(`blob://${sha256}`, bytes);
      return Promise.resolve({ uri: `blob://${sha256}`, contentType, bytes: bytes.byteLength, sha256 });
    },
    get(uri): Promise<Uint8Array> {
      const b = raw.get(uri);
      return b ? Promise.resolve(b) : Promise.reject(new Error(`blob ${uri} not found`));
    },
  };
}

const base = { ingestTime: T0 + 5, site: 'plant-a', source: 'simulator', stage: 'intake' };
const clip = (id: string, media: MediaRef, time = T0): AudioClip => ({
  kind: 'audio', id, time, ...base, asset: 'P-101', media, sampleRateHz: 16000, channels: 1, durationMs: 1000,
});
const frame = (id: string, media: MediaRef, time: number): ImageFrame => ({
  kind: 'image', id, time, ...base, asset: 'cam-intake', media, width: 96, height: 64,
});

async function rejection(p: Promise<unknown>): Promise<MediaFeatureError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MediaFeatureError) return e;
    throw e;
  }
  throw new Error('expected a MediaFeatureError');
}

describe('media feature stage', () => {
  const rng = createRng(5, 'stage-test');
  const pump = { running: true, shaftHz: 24.5, load: 1, cavitation: 0, bearingWear: 0 };

  it('derives valid audio readings for the same subject and time', async () => {
    const blobs = memoryBlobs();
    const stage = createMediaFeatureStage({ blobs, logger });
    const ref = await blobs.put(encodeWav(synthPumpAudio(rng, pump, 16000, 1000), 16000), 'audio/wav');
    const out = await stage.derive(clip('sim-7', ref));
    expect(out.map((r) => r.metric)).toEqual(['audio_rms_db', 'audio_centroid_hz', 'audio_hf_ratio', 'audio_flatness', 'audio_crest', 'audio_kurtosis']);
    for (const r of out) {
      expect(Value.Check(Reading, r)).toBe(true);
      expect(r).toMatchObject({ id: `sim-7#${r.metric}`, time: T0, site: 'plant-a', asset: 'P-101', stage: 'intake', source: 'simulator/features' });
    }
    const rms = out.find((r) => r.metric === 'audio_rms_db');
    expect(rms?.unit).toBe('dB');
    expect(rms?.value).toBeGreaterThan(-25);
    expect(rms?.value).toBeLessThan(-10);
  });

  it('gives only the level for a stopped pump (its spectrum is the room, not the machine)', async () => {
    const blobs = memoryBlobs();
    const stage = createMediaFeatureStage({ blobs, logger });
    const ref = await blobs.put(encodeWav(synthPumpAudio(rng, { ...pump, running: false }, 16000, 1000), 16000), 'audio/wav');
    const out = await stage.derive(clip('sim-8', ref));
    expect(out.map((r) => r.metric)).toEqual(['audio_rms_db']);
    expect(out[0]?.value).toBeLessThan(-35);
  });

  it('derives image readings: luma always, change from the second frame, an intruder shows', async () => {
    const blobs = memoryBlobs();
    const stage = createMediaFeatureStage({ blobs, logger });
    const put = (t: number, intruder?: { x: number; y: number }): Promise<MediaRef> =>
      blobs.put(encodePngGray(96, 64, renderFrame(rng, { camera: 'cam-intake', width: 96, height: 64, timeMs: t, ...(intruder ? { intruder } : {}) })), 'image/png');
    const first = await stage.derive(frame('f0', await put(T0), T0));
    expect(first.map((r) => r.metric)).toEqual(['image_luma']);
    const second = await stage.derive(frame('f1', await put(T0 + 5000), T0 + 5000));
    expect(second.map((r) => [r.metric, r.unit])).toEqual([['image_luma', 'level'], ['image_change_pct', '%'], ['image_change_area_pct', '%']]);
    expect(second[1]?.value).toBe(0);
    const third = await stage.derive(frame('f2', await put(T0 + 10000, { x: 50, y: 44 }), T0 + 10000));
    expect(third[1]?.value).toBeGreaterThan(1);
    expect(third[2]?.value).toBeGreaterThan(1);
    for (const r of third) expect(Value.Check(Reading, r)).toBe(true);
  });

  it('snapshot/restore round-trips the backgrounds through JSON', async () => {
    const blobs = memoryBlobs();
    const a = createMediaFeatureStage({ blobs, logger });
    const refs: MediaRef[] = [];
    for (let i = 0; i < 6; i++) {
      const intruder = i >= 4 ? { x: 20 + 10 * i, y: 44 } : undefined;
      const px = renderFrame(rng, { camera: 'cam-intake', width: 96, height: 64, timeMs: T0 + i * 5000, ...(intruder ? { intruder } : {}) });
      refs.push(await blobs.put(encodePngGray(96, 64, px), 'image/png'));
    }
    for (let i = 0; i < 3; i++) await a.derive(frame(`f${i}`, refs[i]!, T0 + i * 5000));
    const b = createMediaFeatureStage({ blobs, logger });
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    expect(b.snapshot()).toEqual(a.snapshot());
    for (let i = 3; i < 6; i++) {
      const e = frame(`f${i}`, refs[i]!, T0 + i * 5000);
      expect(await b.derive(e)).toEqual(await a.derive(e));
    }
    // A snapshot is a copy: later frames do not change it.
    const snap = JSON.stringify(a.snapshot());
    const before = a.snapshot();
    await a.derive(frame('f9', refs[5]!, T0 + 30000));
    expect(JSON.stringify(before)).toBe(snap);
  });

  it('refuses malformed snapshots with E_MEDIA_STATE', () => {
    const stage = createMediaFeatureStage({ blobs: memoryBlobs(), logger });
    for (const bad of [null, { version: 2, backgrounds: {} }, { version: 1 }, { version: 1, backgrounds: { 'plant-a/cam': { v: 1, cells: [1] } } }]) {
      expect(() => stage.restore(bad)).toThrow(expect.objectContaining({ code: 'E_MEDIA_STATE' }) as Error);
    }
  });

  it('corrupt or unsupported media gives E_MEDIA_DECODE naming the event, the blob and the fault', async () => {
    const blobs = memoryBlobs();
    const stage = createMediaFeatureStage({ blobs, logger });
    const wav = encodeWav(synthPumpAudio(rng, pump, 16000, 100), 16000);
    const png = encodePngGray(96, 64, renderFrame(rng, { camera: 'cam-intake', width: 96, height: 64, timeMs: T0 }));
    const badCrc = png.slice();
    badCrc[20] = (badCrc[20] ?? 0) ^ 1;
    const eightBit = wav.slice();
    new DataView(eightBit.buffer).setUint16(34, 8, true);
    new DataView(eightBit.buffer).setUint16(32, 1, true);
    const cases: Array<[ 'audio' | 'image', Uint8Array, RegExp]> = [
      ['audio', wav.subarray(0, wav.length - 7), /truncated|whole number/],
      ['audio', png, /not a RIFF\/WAVE/],
      ['audio', eightBit, /8 bits per sample is not supported/],
      ['image', wav, /not a PNG/],
      ['image', badCrc, /CRC/],
      ['image', png.subarray(0, 100), /truncated/],
    ];
    for (const [kind, bytes, why] of cases) {
      const ref = await blobs.put(bytes, 'application/octet-stream');
      const e = await rejection(stage.derive(kind === 'audio' ? clip('bad-1', ref) : frame('bad-1', ref, T0)));
      expect(e.code).toBe('E_MEDIA_DECODE');
      expect(e.message).toContain('bad-1');
      expect(e.message).toContain(ref.uri);
      expect(e.message).toMatch(why);
    }
  });

  it('size limits, size mismatches and missing blobs have their own clear errors', async () => {
    const blobs = memoryBlobs();
    const stage = createMediaFeatureStage({ blobs, logger, maxBytes: 1000 });
    const ref = await blobs.put(encodeWav(synthPumpAudio(rng, pump, 16000, 1000), 16000), 'audio/wav');
    expect((await rejection(stage.derive(clip('big', ref)))).code).toBe('E_MEDIA_TOO_LARGE');
    const small = await blobs.put(encodeWav(new Float32Array(100), 16000), 'audio/wav');
    const mismatch = await rejection(stage.derive(clip('lie', { ...small, bytes: 150 })));
    expect(mismatch.code).toBe('E_MEDIA_DECODE');
    expect(mismatch.message).toMatch(/declares 150/);
    const missing = await rejection(stage.derive(clip('gone', { ...small, uri: `blob://${'0'.repeat(64)}` })));
    expect(missing.code).toBe('E_MEDIA_BLOB');
    expect(missing.message).toContain('gone');
  });

  describe('with the file-system blob store', () => {
    let dir = '';
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    it('reads clips stored on disk', async () => {
      dir = await mkdtemp(join(tmpdir(), 'media-features-'));
      const blobs = createFsBlobStore(dir);
      const stage = createMediaFeatureStage({ blobs, logger });
      const ref = await blobs.put(encodeWav(synthPumpAudio(rng, { ...pump, bearingWear: 1 }, 16000, 1000), 16000), 'audio/wav');
      const out = await stage.derive(clip('disk-1', ref));
      expect(out.find((r) => r.metric === 'audio_hf_ratio')?.value).toBeGreaterThan(0.1);
    });
  });
});
