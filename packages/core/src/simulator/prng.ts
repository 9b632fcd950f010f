/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so the simulator is reproducible:
 * the same seed gives the same stream on every platform. Independent streams are derived
 * from one seed so that, e.g., adding a camera does not shift the sensor noise.
 *
 * @example
 * const rng = createRng(42, 'sensors');
 * const u = rng.next();       // [0, 1)
 * const z = rng.normal();     // standard normal
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Approximately standard normal (Irwin–Hall of 4 uniforms): cheap, for audio and pixel noise. */
  noise(): number;
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

function splitmix32(a: number): () => number {
  let s = a >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a of a stream name, so each named stream gets its own seed. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function createRng(seed: number, stream = ''): Rng {
  const mix = splitmix32((Math.floor(seed) ^ hashName(stream)) >>> 0);
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  const next = (): number => {
    // sfc32: fast, passes PractRand for our needs, 128-bit state.
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // discard the warm-up outputs
  let spare: number | undefined;
  return {
    next,
    normal() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = next();
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    noise() {
      return (next() + next() + next() + next() - 2) * 1.7320508075688772;
    },
    range(lo, hi) {
      return lo + (hi - lo) * next();
    },
    int(n) {
      return Math.floor(next() * n);
    },
    pick(items) {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
  };
}
