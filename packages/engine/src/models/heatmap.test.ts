import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { blendHeatmap, heatRamp, renderHeatmapPng } from './heatmap.ts';
import { ModelError } from './errors.ts';

const W = 24;
const H = 16;
/** A mid-gray frame and an error map that is hot in one 4×4 block only. */
const frame = { width: W, height: H, luma: new Uint8Array(W * H).fill(120) };
const errMap = (w: number, h: number, hot: { x: number; y: number; size: number }, value = 10) => {
  const data = new Float32Array(w * h).fill(0.05);
  for (let y = hot.y; y < hot.y + hot.size; y++) for (let x = hot.x; x < hot.x + hot.size; x++) data[y * w + x] = value;
  return { width: w, height: h, data };
};

describe('heat-map overlay', () => {
  it('ramps from dark red to red to yellow, never white (a bright intruder must stay visible)', () => {
    expect(heatRamp(0)).toEqual([128, 0, 0]);
    expect(heatRamp(0.5)).toEqual([255, 0, 0]);
    expect(heatRamp(1)).toEqual([255, 230, 0]);
    expect(heatRamp(7)).toEqual(heatRamp(1));
    expect(heatRamp(1)[2]).toBe(0);
  });

  it('tints only where the error is high and leaves the rest of the frame gray', () => {
    const rgb = blendHeatmap(frame, errMap(W, H, { x: 10, y: 6, size: 4 }), { scale: 10 });
    const px = (x: number, y: number) => Array.from(rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    expect(px(0, 0)).toEqual([120, 120, 120]);
    expect(px(23, 15)).toEqual([120, 120, 120]);
    const [r, g, b] = px(11, 7);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeGreaterThan(150); // full scale: yellow
    expect(b).toBeLessThan(40);
  });

  it('uses a fixed scale, so a weak error stays weak instead of being stretched to full colour', () => {
    const weak = blendHeatmap(frame, errMap(W, H, { x: 10, y: 6, size: 4 }, 3), { scale: 10 });
    const stretched = blendHeatmap(frame, errMap(W, H, { x: 10, y: 6, size: 4 }, 3));
    const i = (7 * W + 11) * 3;
    expect(weak[i + 1]).toBeLessThan(stretched[i + 1]!); // less yellow
    expect(weak[i]).toBeGreaterThan(120); // still red-tinted
  });

  it('maps a coarser error map onto the frame cell by cell', () => {
    // A 6×4 map over a 24×16 frame: each cell covers 4×4 pixels.
    const rgb = blendHeatmap(frame, errMap(6, 4, { x: 2, y: 1, size: 1 }), { scale: 10 });
    const red = (x: number, y: number) => rgb[(y * W + x) * 3]! > 150;
    expect(red(8, 4) && red(11, 7)).toBe(true);
    expect(red(7, 4) || red(12, 7) || red(8, 3) || red(8, 8)).toBe(false);
  });

  it('encodes a PNG enlarged for display', async () => {
    const png = await renderHeatmapPng(frame, errMap(W, H, { x: 10, y: 6, size: 4 }), { scale: 10 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.format, info.width, info.height, info.channels]).toEqual(['raw', 96, 64, 3]);
    // Pixel (11,7) of the frame is at (44..47, 28..31) in the 4× image.
    const at = (x: number, y: number) => data[(y * 96 + x) * 3]!;
    expect(at(45, 29)).toBeGreaterThan(200);
    expect(at(2, 2)).toBe(120);
  });

  it('says what does not match', () => {
    expect(() =>
      blendHeatmap({ width: 4, height: 4, luma: new Uint8Array(3) }, errMap(4, 4, { x: 0, y: 0, size: 1 })),
    ).toThrow(/frame of 4×4 needs 16 luma bytes, got 3/);
    expect(() => blendHeatmap(frame, { width: 5, height: 5, data: new Float32Array(3) })).toThrow(ModelError);
  });
});
