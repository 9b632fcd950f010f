/**
 * Synthesised pump sound: shaft-rotation harmonics, blade-pass tone, motor hum and a noise floor.
 * Cavitation adds impulsive broadband crackle (high kurtosis); bearing wear adds a high-frequency
 * tone amplitude-modulated at the shaft rate (a spectral peak near BEARING_TONE_HZ).
 *
 * @example
 * const samples = synthPumpAudio(rng, { running: true, shaftHz: 24.5, load: 1, cavitation: 0, bearingWear: 0 }, 16000, 1000);
 */
import type { Rng } from './prng.ts';

/** Frequency of the bearing-defect tone, Hz. */
export const BEARING_TONE_HZ = 3150;

export interface PumpSound {
  running: boolean;
  /** Shaft rotation frequency, Hz. */
  shaftHz: number;
  /** 0..1 relative hydraulic load. */
  load: number;
  /** 0..1 severity. */
  cavitation: number;
  /** 0..1 severity. */
  bearingWear: number;
}

const TABLE_BITS = 13;
const TABLE_SIZE = 1 << TABLE_BITS;
const SIN_TABLE = ((): Float64Array => {
  const t = new Float64Array(TABLE_SIZE);
  for (let i = 0; i < TABLE_SIZE; i++) t[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);
  return t;
})();

/** sin(2π·c) by table lookup (error < 1e-3, far below the noise floor). */
function sinCycles(c: number): number {
  return SIN_TABLE[Math.floor((c - Math.floor(c)) * TABLE_SIZE) & (TABLE_SIZE - 1)] ?? 0;
}

export function synthPumpAudio(rng: Rng, p: PumpSound, sampleRateHz: number, durationMs: number): Float32Array {
  const n = Math.round((sampleRateHz * durationMs) / 1000);
  const out = new Float32Array(n);
  const dt = 1 / sampleRateHz;
  // Random phases so consecutive clips are not identical.
  const ph = [rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next()].map((x) => x * 2 * Math.PI);
  const ph0 = ph[0] ?? 0;
  const ph1 = ph[1] ?? 0;
  const ph2 = ph[2] ?? 0;
  const ph3 = ph[3] ?? 0;
  const ph4 = ph[4] ?? 0;
  const ph5 = ph[5] ?? 0;
  const amp = p.running ? 0.5 + 0.5 * p.load : 0;
  // Phases are tracked in cycles and looked up in a table: Math.sin per sample per partial was the
  // simulator's main cost.
  const f = p.shaftHz;
  const partials: Array<[freq: number, gain: number, phase: number]> = p.running
    ? [
        [f, amp * 0.16, ph0],
        [2 * f, amp * 0.08, ph1],
        [3 * f, amp * 0.04, ph2],
        [6 * f, amp * 0.1, ph3], // six-vane impeller blade pass
        [100, 0.04, ph4], // motor magnetostriction hum
      ]
    : [[50, 0.004, ph4]]; // mains hum from nearby equipment
  for (const [freq, gain, phase] of partials) {
    const inc = freq * dt;
    let c = phase / (2 * Math.PI);
    for (let i = 0; i < n; i++) {
      out[i] = (out[i] ?? 0) + gain * sinCycles(c);
      c += inc;
    }
  }
  if (p.running && p.bearingWear > 0) {
    const g = 0.12 * p.bearingWear;
    let cm = ph5 / (2 * Math.PI);
    let ct = 0;
    for (let i = 0; i < n; i++) {
      out[i] = (out[i] ?? 0) + g * (1 + 0.8 * sinCycles(cm)) * sinCycles(ct);
      cm += f * dt;
      ct += BEARING_TONE_HZ * dt;
    }
  }
  const floor = p.running ? 0.03 : 0.01;
  let lp = 0; // one-pole low-passed noise: a duller floor, like a room
  for (let i = 0; i < n; i++) {
    lp += 0.3 * (rng.noise() - lp);
    out[i] = (out[i] ?? 0) + floor * lp;
  }
  if (p.running && p.cavitation > 0) {
    // Vapour bubbles collapsing: Poisson bursts of decaying broadband noise.
    const rate = 20 + 60 * p.cavitation; // bursts per second
    let t = -Math.log(1 - rng.next()) / rate;
    const total = n * dt;
    while (t < total) {
      const start = Math.floor(t * sampleRateHz);
      const len = Math.floor(sampleRateHz * rng.range(0.002, 0.006));
      const a = (0.25 + 0.5 * p.cavitation) * rng.range(0.5, 1);
      for (let k = 0; k < len && start + k < n; k++) {
        out[start + k] = (out[start + k] ?? 0) + a * Math.exp((-5 * k) / len) * rng.noise();
      }
      t += -Math.log(1 - rng.next()) / rate;
    }
  }
  return out;
}
