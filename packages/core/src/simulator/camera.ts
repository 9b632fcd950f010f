/**
 * Synthetic camera frames: a static grayscale scene (sky, tanks, pipework, fence) per camera,
 * with slow lighting drift and sensor noise; an intruder is a dark figure (head + body) drawn
 * at a given position.
 *
 * @example
 * const px = renderFrame(rng, { camera: 'cam-intake', width: 96, height: 64, timeMs: t, intruder: { x: 40, y: 44 } });
 */
import type { Rng } from './prng.ts';

export interface FrameSpec {
  camera: string;
  width: number;
  height: number;
  /** Event time, epoch ms: drives the lighting drift. */
  timeMs: number;
  /** Centre of the figure's body, in pixels; absent when nobody is there. */
  intruder?: { x: number; y: number };
}

/** Deterministic per-pixel texture so a camera's scene is the same on every frame. */
function texture(x: number, y: number, salt: number): number {
  let h = Math.imul(x + 1, 0x27d4eb2d) ^ Math.imul(y + 1, 0x165667b1) ^ salt;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h ^= h >>> 13;
  return ((h >>> 0) % 1000) / 1000;
}

function saltOf(camera: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < camera.length; i++) h = Math.imul(h ^ camera.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The scene without noise or lighting: what the camera would see at noon on a still day. */
export function baseScene(camera: string, width: number, height: number): Float32Array {
  const salt = saltOf(camera);
  const px = new Float32Array(width * height);
  const horizon = Math.round(height * 0.4);
  const tankX = 12 + (salt % 20);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v: number;
      if (y < horizon) v = 175 + (20 * y) / horizon; // sky
      else v = 110 + 25 * texture(x, y, salt); // gravel
      // a cylindrical tank: lighter with vertical shading
      const dx = x - tankX - 14;
      if (Math.abs(dx) <= 14 && y > horizon - 14 && y < horizon + 16) v = 150 - 2.2 * Math.abs(dx);
      // pipework along the ground
      if (y >= horizon + 18 && y <= horizon + 19 && x > tankX + 14) v = 85;
      // fence posts
      if (y < horizon + 4 && y > horizon - 8 && x % 16 === (salt % 16)) v = 70;
      px[y * width + x] = v;
    }
  }
  return px;
}

const sceneCache = new Map<string, Float32Array>();

export function renderFrame(rng: Rng, spec: FrameSpec): Uint8Array {
  const { width, height } = spec;
  const key = `${spec.camera}/${width}x${height}`;
  let scene = sceneCache.get(key);
  if (!scene) {
    scene = baseScene(spec.camera, width, height);
    sceneCache.set(key, scene);
  }
  // Lighting: a slow 30-minute swing of gain plus a tiny offset wander.
  const phase = (2 * Math.PI * spec.timeMs) / 1_800_000;
  const gain = 1 + 0.08 * Math.sin(phase);
  const offset = 3 * Math.sin(phase * 0.37 + 1);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const v = (scene[i] ?? 0) * gain + offset + 2.5 * rng.noise();
    out[i] = Math.max(0, Math.min(255, Math.round(v)));
  }
  if (spec.intruder) {
    const { x: cx, y: cy } = spec.intruder;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const body = ((x - cx) / 4) ** 2 + ((y - cy) / 9) ** 2 <= 1;
        const head = (x - cx) ** 2 + (y - (cy - 12)) ** 2 <= 9;
        if (body || head) out[y * width + x] = Math.max(0, Math.min(255, Math.round(28 * gain + 3 * rng.noise())));
      }
    }
  }
  return out;
}
