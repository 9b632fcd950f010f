import { describe, it, expect } from 'vitest';
import { renderFrame } from '../simulator/camera.ts';
import { createRng } from '../simulator/prng.ts';
import { blockFor, downsample, imageFeatures, isBackground, meanLuma, type Background, type ImageFeatures } from './image.ts';

const W = 96;
const H = 64;
const T0 = 1_700_000_000_000;

describe('image feature helpers', () => {
  it('mean luminance and block means', () => {
    const px = Uint8Array.from([0, 10, 20, 30, 40, 50]); // 3x2
    expect(meanLuma(px)).toBe(25);
    expect(downsample(px, 3, 2, 2)).toEqual([(0 + 10 + 30 + 40) / 4, (20 + 50) / 2]);
    expect(blockFor(96, 64, 4096)).toBe(2);
    expect(blockFor(40, 30, 4096)).toBe(1);
  });

  it('starts a background on the first frame and reports no change yet', () => {
    const px = new Uint8Array(W * H).fill(100);
    const r = imageFeatures(px, W, H, undefined);
    expect(r.features).toEqual({ luma: 100, changePct: 0, changeAreaPct: 0, box: null, warm: false });
    expect(isBackground(r.background)).toBe(true);
    expect(isBackground(JSON.parse(JSON.stringify(r.background)))).toBe(true);
    expect(isBackground({ ...r.background, cells: [1, 2] })).toBe(false);
  });

  it('measures a changed square exactly and then absorbs it slowly', () => {
    let bg: Background | undefined = imageFeatures(new Uint8Array(W * H).fill(100), W, H, undefined).background;
    const px = new Uint8Array(W * H).fill(100);
    for (let y = 10; y < 20; y++) for (let x = 30; x < 50; x++) px[y * W + x] = 200;
    const r = imageFeatures(px, W, H, bg);
    bg = r.background;
    expect(r.features.box).toEqual({ x: 30, y: 10, width: 20, height: 10 });
    expect(r.features.changePct).toBeCloseTo((100 * 200) / (W * H), 9);
    expect(r.features.changeAreaPct).toBeCloseTo((100 * 200) / (W * H), 9);
    // Changed blocks adapt at alpha/10: still seen after 20 frames, gone after many more.
    for (let i = 0; i < 20; i++) bg = imageFeatures(px, W, H, bg).background;
    expect(imageFeatures(px, W, H, bg).features.changePct).toBeGreaterThan(0);
    for (let i = 0; i < 600; i++) bg = imageFeatures(px, W, H, bg).background;
    expect(imageFeatures(px, W, H, bg).features.changePct).toBe(0);
  });

  it('restarts the background when the resolution changes', () => {
    const bg = imageFeatures(new Uint8Array(W * H).fill(100), W, H, undefined).background;
    const r = imageFeatures(new Uint8Array(32 * 16).fill(0), 32, 16, bg);
    expect(r.features.warm).toBe(false);
    expect(r.background.width).toBe(32);
  });
});

describe('image features separate an intruder from normal frames (simulator camera)', () => {
  it('change exceeds every one of 200 normal frames, and the box holds the figure', () => {
    const rng = createRng(11, 'camera-test');
    let bg: Background | undefined;
    const normal: ImageFeatures[] = [];
    let t = T0;
    for (let i = 0; i < 201; i++, t += 5000) {
      const r = imageFeatures(renderFrame(rng, { camera: 'cam-intake', width: W, height: H, timeMs: t }), W, H, bg);
      bg = r.background;
      if (r.features.warm) normal.push(r.features);
    }
    expect(normal).toHaveLength(200);
    const maxChange = Math.max(...normal.map((f) => f.changePct));
    const maxArea = Math.max(...normal.map((f) => f.changeAreaPct));
    // An intruder walking across (as the simulator's scenario moves it), one frame every 5 s.
    for (let k = 0; k < 12; k++, t += 5000) {
      const intruder = { x: 8 + 7 * k, y: 44 };
      const r = imageFeatures(renderFrame(rng, { camera: 'cam-intake', width: W, height: H, timeMs: t, intruder }), W, H, bg);
      bg = r.background;
      expect(r.features.changePct).toBeGreaterThan(maxChange);
      expect(r.features.changePct).toBeGreaterThan(0.5);
      expect(r.features.changeAreaPct).toBeGreaterThan(maxArea);
      const box = r.features.box;
      expect(box).not.toBeNull();
      if (box) {
        expect(box.x).toBeLessThanOrEqual(intruder.x);
        expect(box.x + box.width).toBeGreaterThanOrEqual(intruder.x);
        expect(box.y).toBeLessThanOrEqual(intruder.y);
        expect(box.y + box.height).toBeGreaterThanOrEqual(intruder.y);
      }
    }
  });
});
