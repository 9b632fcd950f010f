/**
 * Image features for stream detectors: mean luminance, and change against a running background
 * (what share of the picture differs from it, and the bounding box of the changed region).
 *
 * The background is plain JSON state per camera: the frame downsampled into blocks (block means
 * also average out sensor noise), updated as an exponential average. Changed blocks adapt ten
 * times slower, so a person standing still is not absorbed into the background within seconds.
 *
 * @example
 * let bg: Background | undefined;
 * const r = imageFeatures(luma, 96, 64, bg); bg = r.background;
 * r.features.changePct; // % of the picture differing from the background by > threshold_levels
 */
export interface Background {
  v: 1;
  width: number;
  height: number;
  /** Block edge in pixels. */
  block: number;
  cols: number;
  rows: number;
  /** Block means, row-major, cols × rows. */
  cells: number[];
  /** Frames seen so far. */
  frames: number;
}

export interface ImageFeatureOptions {
  /** Weight of a new frame in the background average, 0..1 (default 0.05). */
  alpha?: number;
  /** A block has changed when its mean differs from the background by more than this, grey levels (default 25). */
  thresholdLevels?: number;
  /** Upper bound on blocks in the background; the block edge grows to respect it (default 4096). */
  maxCells?: number;
}

export interface ChangeBox {
  /** Pixel coordinates of the changed region's bounding box (x, y of the top-left corner). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ImageFeatures {
  /** Mean luminance, 0..255. */
  luma: number;
  /** Percent of the picture (by block) differing from the background; 0 on a camera's first frame. */
  changePct: number;
  /** Bounding box of the changed region as a percent of the picture (0 when nothing changed). */
  changeAreaPct: number;
  box: ChangeBox | null;
  /** False on the first frame of a background (nothing to compare with yet). */
  warm: boolean;
}

export function meanLuma(luma: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < luma.length; i++) s += luma[i] ?? 0;
  return luma.length > 0 ? s / luma.length : 0;
}

/** The smallest block edge that keeps the block count within maxCells. */
export function blockFor(width: number, height: number, maxCells: number): number {
  let b = 1;
  while (Math.ceil(width / b) * Math.ceil(height / b) > maxCells) b++;
  return b;
}

/** Block means of a row-major image (edge blocks average the pixels they hold). */
export function downsample(luma: ArrayLike<number>, width: number, height: number, block: number): number[] {
  const cols = Math.ceil(width / block);
  const rows = Math.ceil(height / block);
  const sum = new Float64Array(cols * rows);
  const cnt = new Float64Array(cols * rows);
  for (let y = 0; y < height; y++) {
    const r = Math.floor(y / block) * cols;
    for (let x = 0; x < width; x++) {
      const c = r + Math.floor(x / block);
      sum[c] = (sum[c] ?? 0) + (luma[y * width + x] ?? 0);
      cnt[c] = (cnt[c] ?? 0) + 1;
    }
  }
  return Array.from(sum, (s, i) => s / (cnt[i] ?? 1));
}

/** True when `x` is a well-formed Background (used when restoring a snapshot). */
export function isBackground(x: unknown): x is Background {
  if (typeof x !== 'object' || x === null) return false;
  const b = x as Record<string, unknown>;
  const ints = ['width', 'height', 'block', 'cols', 'rows', 'frames'].every(
    (k) => {
      const n = b[k];
      return typeof n === 'number' && Number.isInteger(n) && n >= (k === 'frames' ? 0 : 1);
    },
  );
  if (b['v'] !== 1 || !ints || !Array.isArray(b['cells'])) return false;
  const bg = x as Background;
  return (
    bg.cols === Math.ceil(bg.width / bg.block) &&
    bg.rows === Math.ceil(bg.height / bg.block) &&
    bg.cells.length === bg.cols * bg.rows &&
    bg.cells.every((c) => typeof c === 'number' && Number.isFinite(c))
  );
}

/**
 * Features of one frame against a background. The given background is updated in place when it
 * fits the frame's size; otherwise (absent, or the camera's resolution changed) a new one starts
 * from this frame. Returns the features and the background to keep.
 */
export function imageFeatures(
  luma: ArrayLike<number>,
  width: number,
  height: number,
  bg: Background | undefined,
  opts: ImageFeatureOptions = {},
): { features: ImageFeatures; background: Background } {
  if (luma.length !== width * height) throw new RangeError(`image of ${width}x${height} needs ${width * height} pixels, got ${luma.length}`);
  const alpha = opts.alpha ?? 0.05;
  const threshold = opts.thresholdLevels ?? 25;
  const block = blockFor(width, height, opts.maxCells ?? 4096);
  const cells = downsample(luma, width, height, block);
  const mean = meanLuma(luma);
  if (!bg || bg.width !== width || bg.height !== height || bg.block !== block) {
    const fresh: Background = { v: 1, width, height, block, cols: Math.ceil(width / block), rows: Math.ceil(height / block), cells, frames: 1 };
    return { features: { luma: mean, changePct: 0, changeAreaPct: 0, box: null, warm: false }, background: fresh };
  }
  let changedArea = 0;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let r = 0; r < bg.rows; r++) {
    for (let c = 0; c < bg.cols; c++) {
      const i = r * bg.cols + c;
      const now = cells[i] ?? 0;
      const old = bg.cells[i] ?? 0;
      const changed = Math.abs(now - old) > threshold;
      // Pixels this block covers (edge blocks are smaller), so percentages are of the picture.
      const px0 = c * block;
      const py0 = r * block;
      const px1 = Math.min(width, px0 + block);
      const py1 = Math.min(height, py0 + block);
      if (changed) {
        changedArea += (px1 - px0) * (py1 - py0);
        x0 = Math.min(x0, px0);
        y0 = Math.min(y0, py0);
        x1 = Math.max(x1, px1);
        y1 = Math.max(y1, py1);
      }
      const a = changed ? alpha / 10 : alpha;
      bg.cells[i] = old + a * (now - old);
    }
  }
  bg.frames++;
  const total = width * height;
  const box = changedArea > 0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
  return {
    features: {
      luma: mean,
      changePct: (100 * changedArea) / total,
      changeAreaPct: box ? (100 * box.width * box.height) / total : 0,
      box,
      warm: true,
    },
    background: bg,
  };
}
