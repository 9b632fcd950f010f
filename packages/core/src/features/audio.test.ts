import { describe, it, expect } from 'vitest';
import { synthPumpAudio, type PumpSound } from '../simulator/audio.ts';
import { createRng } from '../simulator/prng.ts';
import { encodeWav } from '../simulator/wav.ts';
import { audioFeatures, SILENCE_DB, type AudioFeatures } from './audio.ts';
import { decodeWav } from './wav.ts';

const RATE = 16000;
const tone = (hz: number, amp: number, n = RATE): number[] => Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / RATE));

describe('audioFeatures on known signals', () => {
  it('a sine: its level, its frequency, crest √2, kurtosis 1.5, tonal', () => {
    const f = audioFeatures(tone(1000, 0.5), RATE);
    expect(f.rmsDb).toBeCloseTo(20 * Math.log10(0.5 / Math.SQRT2), 2);
    expect(Math.abs(f.centroidHz - 1000)).toBeLessThan(20);
    expect(f.hfRatio).toBeLessThan(0.01);
    expect(f.crest).toBeCloseTo(Math.SQRT2, 2);
    expect(f.kurtosis).toBeCloseTo(1.5, 2);
    expect(f.flatness).toBeLessThan(0.01);
  });

  it('white noise: flat spectrum, centroid near a quarter of the rate', () => {
    const rng = createRng(1, 'noise');
    const f = audioFeatures(Array.from({ length: RATE }, () => rng.range(-0.5, 0.5)), RATE);
    expect(f.flatness).toBeGreaterThan(0.5);
    expect(Math.abs(f.centroidHz - RATE / 4)).toBeLessThan(200);
    expect(Math.abs(f.hfRatio - 6000 / 8000)).toBeLessThan(0.03);
  });

  it('the high-frequency ratio follows its cutoff', () => {
    const x = tone(500, 0.5).map((v, i) => v + 0.5 * Math.sin((2 * Math.PI * 4000 * i) / RATE));
    expect(audioFeatures(x, RATE).hfRatio).toBeCloseTo(0.5, 1);
    expect(audioFeatures(x, RATE, { hfCutoffHz: 5000 }).hfRatio).toBeLessThan(0.01);
  });

  it('silence and very short clips give finite values', () => {
    const s = audioFeatures(new Float64Array(1000), RATE);
    expect(s).toEqual({ rmsDb: SILENCE_DB, centroidHz: 0, hfRatio: 0, flatness: expect.any(Number) as number, crest: 1, kurtosis: 0 });
    const short = audioFeatures([0.1, -0.2, 0.3], RATE);
    for (const v of Object.values(short)) expect(Number.isFinite(v)).toBe(true);
    expect(() => audioFeatures([], RATE)).toThrow(/no samples/);
  });
});

describe('audioFeatures separate pump faults from normal running (simulator clips)', () => {
  const rng = createRng(2026, 'features-test');
  const running = (): PumpSound => {
    const speed = rng.range(0.6, 1.05);
    return { running: true, shaftHz: 24.5 * speed, load: speed, cavitation: 0, bearingWear: 0 };
  };
  const featuresOf = (p: PumpSound): AudioFeatures => {
    const w = decodeWav(encodeWav(synthPumpAudio(rng, p, RATE, 1000), RATE));
    return audioFeatures(w.samples, w.sampleRateHz);
  };
  const normal = Array.from({ length: 200 }, () => featuresOf(running()));
  const max = (k: keyof AudioFeatures): number => Math.max(...normal.map((f) => f[k]));

  it('cavitation (even mild) raises hf ratio, flatness and crest beyond every normal clip', () => {
    for (const severity of [0.1, 0.4, 1]) {
      for (let i = 0; i < 8; i++) {
        const f = featuresOf({ ...running(), cavitation: severity });
        expect(f.hfRatio).toBeGreaterThan(max('hfRatio'));
        expect(f.flatness).toBeGreaterThan(max('flatness'));
        expect(f.crest).toBeGreaterThan(max('crest'));
      }
    }
  });

  it('bearing wear (from its first stage) raises hf ratio and centroid beyond every normal clip', () => {
    for (const wear of [0.15, 0.5, 1]) {
      for (let i = 0; i < 8; i++) {
        const f = featuresOf({ ...running(), bearingWear: wear });
        expect(f.hfRatio).toBeGreaterThan(max('hfRatio'));
        expect(f.centroidHz).toBeGreaterThan(max('centroidHz'));
      }
    }
  });

  it('a stopped pump is far quieter than any running one', () => {
    const stopped = featuresOf({ running: false, shaftHz: 24.5, load: 0, cavitation: 0, bearingWear: 0 });
    expect(stopped.rmsDb).toBeLessThan(Math.min(...normal.map((f) => f.rmsDb)) - 20);
  });
});
