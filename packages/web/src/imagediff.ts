/**
 * Camera-frame difference for the incident page: per-pixel luminance change between an
 * earlier frame and the incident's frame of the same camera, as a heat map (RGBA, ready for
 * a canvas) and the share of pixels that changed. Pure, so it is unit-tested.
 *
 * @example
 * const { rgba, changedPct } = diffHeat(before.data, after.data, w, h, { threshold: 24 });
 * ctx.putImageData(new ImageData(rgba, w, h), 0, 0);
 */
import { heatColour } from './dsp.ts';

const luma = (d: Uint8ClampedArray, i: number): number => 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;

export function diffHeat(
  before: Uint8ClampedArray,
  after: Uint8ClampedArray,
  width: number,
  height: number,
  o: { threshold: number } = { threshold: 24 },
): { rgba: Uint8ClampedArray<ArrayBuffer>; changedPct: number; maxDelta: number } {
  const n = width * height;
  if (before.length !== n * 4 || after.length !== n * 4)
    throw new RangeError(
      `diffHeat: expected ${n * 4} bytes per frame (${width}x${height} RGBA), got ${before.length} and ${after.length}`,
    );
  const rgba = new Uint8ClampedArray(new ArrayBuffer(n * 4));
  let changed = 0;
  let maxDelta = 0;
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    const d = Math.abs(luma(after, i) - luma(before, i));
    if (d > maxDelta) maxDelta = d;
    if (d >= o.threshold) changed++;
    const [r, g, b] = heatColour(d / 128);
    // Unchanged pixels stay faint so the frame shows through beneath the overlay.
    rgba[i] = r;
    rgba[i + 1] = g;
    rgba[i + 2] = b;
    rgba[i + 3] = d >= o.threshold ? 220 : Math.round((d / o.threshold) * 90);
  }
  return { rgba, changedPct: n === 0 ? 0 : (100 * changed) / n, maxDelta };
}
