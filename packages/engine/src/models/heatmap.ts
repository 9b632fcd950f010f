/**
 * Heat-map overlays: a model's per-pixel reconstruction error drawn over the camera frame it
 * came from, encoded as a PNG (sharp) that an operator can look at next to the frame. The colour
 * ramp is transparent → dark red → red → yellow; errors are scaled by `scale` (e.g. the model's
 * calibrated per-pixel error at its threshold) so the same colour means the same error in every
 * frame, instead of each frame stretching its own maximum to full red.
 *
 * @example
 * const png = await renderHeatmapPng({ luma, width: 96, height: 64 }, { data: heat, width: 96, height: 64 }, { scale: 6.2 });
 * await blobs.put(png, 'image/png');
 */
import sharp from 'sharp';
import { ModelError } from './errors.ts';

export interface GrayFrame {
  width: number;
  height: number;
  /** 8-bit luma, row-major. */
  luma: Uint8Array;
}

export interface ErrorMap {
  width: number;
  height: number;
  /** Non-negative error per cell, row-major (resampled to the frame by nearest cell). */
  data: ArrayLike<number>;
}

export interface HeatmapOptions {
  /** Error that maps to full colour (default: the map's maximum). */
  scale?: number;
  /** Errors below this fraction of `scale` stay transparent (default 0.1), so noise does not tint the frame. */
  floor?: number;
  /** Opacity of the overlay at full colour, 0..1 (default 0.85). */
  opacity?: number;
  /** Width of the output, px: the frame is enlarged (nearest neighbour) to stay readable (default 4× the frame, at most 1024). */
  outWidth?: number;
}

/**
 * The ramp: t in [0,1] → [r, g, b], dark red → red → yellow. No white end: an intruder is often
 * the brightest thing in the frame, and a white "hot" colour would vanish on it.
 */
export function heatRamp(t: number): [number, number, number] {
  const x = t < 0 ? 0 : t > 1 ? 1 : t;
  const r = 0.5 + 0.5 * Math.min(1, x * 2);
  const g = x < 0.5 ? 0 : (x - 0.5) / 0.5;
  return [Math.round(r * 255), Math.round(g * 230), 0];
}

/** Blends the error map over the frame: RGB bytes at the frame's size (pure; sharp only encodes). */
export function blendHeatmap(frame: GrayFrame, err: ErrorMap, opts: HeatmapOptions = {}): Uint8Array {
  const { width: w, height: h, luma } = frame;
  if (!(w > 0 && h > 0) || luma.length !== w * h)
    throw new ModelError('E_MODEL_INPUT', `heat map: frame of ${w}×${h} needs ${w * h} luma bytes, got ${luma.length}`);
  if (!(err.width > 0 && err.height > 0) || err.data.length !== err.width * err.height)
    throw new ModelError(
      'E_MODEL_INPUT',
      `heat map: error map of ${err.width}×${err.height} needs ${err.width * err.height} values, got ${err.data.length}`,
    );
  let max = 0;
  for (let i = 0; i < err.data.length; i++) {
    const v = err.data[i] ?? 0;
    if (Number.isFinite(v) && v > max) max = v;
  }
  const scale = opts.scale !== undefined && opts.scale > 0 ? opts.scale : max;
  const floor = opts.floor ?? 0.1;
  const opacity = opts.opacity ?? 0.85;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const ey = Math.min(err.height - 1, Math.floor((y * err.height) / h));
    for (let x = 0; x < w; x++) {
      const ex = Math.min(err.width - 1, Math.floor((x * err.width) / w));
      const raw = err.data[ey * err.width + ex] ?? 0;
      const t = scale > 0 && Number.isFinite(raw) ? Math.min(1, Math.max(0, raw) / scale) : 0;
      const g = luma[y * w + x] ?? 0;
      const o = (y * w + x) * 3;
      if (t <= floor) {
        out[o] = out[o + 1] = out[o + 2] = g;
        continue;
      }
      const [r, gg, b] = heatRamp(t);
      // Opacity grows with the error above the floor, so weak differences stay see-through.
      const a = opacity * Math.min(1, (t - floor) / (1 - floor) + 0.35);
      out[o] = Math.round(g * (1 - a) + r * a);
      out[o + 1] = Math.round(g * (1 - a) + gg * a);
      out[o + 2] = Math.round(g * (1 - a) + b * a);
    }
  }
  return out;
}

/** The blended overlay as PNG bytes. */
export async function renderHeatmapPng(
  frame: GrayFrame,
  err: ErrorMap,
  opts: HeatmapOptions = {},
): Promise<Uint8Array> {
  const rgb = blendHeatmap(frame, err, opts);
  const outWidth = Math.max(1, Math.round(opts.outWidth ?? Math.min(1024, frame.width * 4)));
  const outHeight = Math.max(1, Math.round((frame.height * outWidth) / frame.width));
  try {
    const png = await sharp(rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .resize(outWidth, outHeight, { kernel: 'nearest' })
      .png({ compressionLevel: 6 })
      .toBuffer();
    return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  } catch (cause) {
    throw new ModelError('E_MODEL_RUN', `heat map: PNG encoding failed: ${(cause as Error).message}`, { cause });
  }
}
