import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { decodeEvent } from '../schema/validate.ts';
import type { LogRecord, Reading } from '../schema/events.ts';
import { CHANNELS, createPlant, type SimOutput } from './plant.ts';
import { parsePngGray } from './png.ts';
import { parseWav } from './wav.ts';

const T0 = Date.UTC(2024, 0, 1);

function fingerprint(outs: SimOutput[]): string {
  const h = createHash('sha256');
  for (const o of outs) {
    h.update(JSON.stringify(o.type === 'label' ? o.label : o.event));
    if (o.type === 'media') h.update(o.bytes);
  }
  return h.digest('hex');
}

function run(seed: number, secs: number, chunkMs?: number, extra: Partial<Parameters<typeof createPlant>[0]> = {}): SimOutput[] {
  const p = createPlant({ seed, startTime: T0, ...extra });
  if (chunkMs === undefined) return p.advance(T0 + secs * 1000 - 1);
  const outs: SimOutput[] = [];
  for (let t = T0; t < T0 + secs * 1000; ) {
    t = Math.min(t + chunkMs, T0 + secs * 1000);
    outs.push(...p.advance(t - 1));
  }
  return outs;
}

const readings = (outs: SimOutput[]): Reading[] =>
  outs.flatMap((o) => (o.type === 'event' && o.event.kind === 'reading' ? [{ ...o.event, ingestTime: o.time }] : []));

describe('determinism', () => {
  it('gives byte-identical output for the same seed and start, however advance is chunked', () => {
    // 150 s covers the first scenario's start (label, audio, logs) as well as normal running.
    const a = run(11, 150);
    expect(fingerprint(run(11, 150, 7_300))).toBe(fingerprint(a));
    expect(fingerprint(run(11, 150, 1_000))).toBe(fingerprint(a));
    expect(fingerprint(run(12, 150))).not.toBe(fingerprint(a));
  });

  it('returns outputs in time order and never past the bound', () => {
    const p = createPlant({ seed: 2, startTime: T0 });
    let last = -Infinity;
    for (let k = 1; k <= 20; k++) {
      const bound = T0 + k * 4_321;
      for (const o of p.advance(bound)) {
        expect(o.time).toBeLessThanOrEqual(bound);
        expect(o.time).toBeGreaterThanOrEqual(last);
        last = o.time;
      }
    }
  });

  it('gives deterministic, unique ids', () => {
    const ids = run(4, 60).flatMap((o) => (o.type === 'label' ? [] : [o.event.id]));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^sim-\d+$/.test(id))).toBe(true);
  });
});

describe('rates and validity', () => {
  const outs = run(5, 300);

  it('has at least 20 sensor channels, each sampled at 1 Hz', () => {
    const byChannel = new Map<string, number[]>();
    for (const r of readings(outs)) {
      const k = `${r.asset}/${r.metric}`;
      const ts = byChannel.get(k) ?? [];
      ts.push(r.time);
      byChannel.set(k, ts);
    }
    expect(byChannel.size).toBeGreaterThanOrEqual(20);
    expect(byChannel.size).toBe(CHANNELS.length);
    for (const ts of byChannel.values()) {
      expect(ts.length).toBeGreaterThanOrEqual(295);
      for (let i = 1; i < ts.length; i++) expect((ts[i] ?? 0) - (ts[i - 1] ?? 0)).toBeGreaterThanOrEqual(1000);
    }
  });

  it('honours rate_hz', () => {
    const fast = readings(run(5, 20, undefined, { rateHz: 4, schedule: 'none', audioEverySecs: 0, imageEverySecs: 0 }));
    expect(fast.filter((r) => r.asset === 'T-101').length).toBe(80);
  });

  it('emits audio every 10 s per pump and a frame every 5 s per camera, which decode', () => {
    const audio = outs.filter((o) => o.type === 'media' && o.event.kind === 'audio');
    const images = outs.filter((o) => o.type === 'media' && o.event.kind === 'image');
    expect(audio.length).toBe(30 * 3);
    expect(images.length).toBe(60 * 2);
    for (const o of [...audio.slice(0, 6), ...images.slice(0, 4)]) {
      if (o.type !== 'media') continue;
      if (o.event.kind === 'audio') {
        const w = parseWav(o.bytes);
        expect(w.sampleRateHz).toBe(o.event.sampleRateHz);
        expect((w.samples.length * 1000) / w.sampleRateHz).toBe(o.event.durationMs);
      } else if (o.event.kind === 'image') {
        const img = parsePngGray(o.bytes);
        expect([img.width, img.height]).toEqual([o.event.width, o.event.height]);
      }
    }
  });

  it('emits only events that pass decodeEvent', () => {
    let n = 0;
    for (const o of outs) {
      if (o.type === 'label') continue;
      const raw =
        o.type === 'media'
          ? { ...o.event, media: { uri: 'blob://x', contentType: o.contentType, bytes: o.bytes.length, sha256: createHash('sha256').update(o.bytes).digest('hex') } }
          : o.event;
      const r = decodeEvent(raw, { now: o.time });
      if (!r.ok) throw new Error(`${o.event.id}: ${r.reason}`);
      n++;
    }
    expect(n).toBeGreaterThan(9000);
  });
});

describe('physics and control (no scenarios)', () => {
  const outs = run(8, 1800, undefined, { schedule: 'none', audioEverySecs: 0, imageEverySecs: 0 });
  const rs = readings(outs);
  const series = (asset: string, metric: string): number[] => rs.filter((r) => r.asset === asset && r.metric === metric).map((r) => r.value);

  it('T-101 level integrates inflow minus outflow', () => {
    const level = series('T-101', 'level_mm');
    const qin = series('MV-101', 'flow_m3h');
    const qout = series('P-101', 'flow_m3h');
    let rising = 0;
    for (let i = 0; i + 60 < level.length; i += 30) {
      let expected = 0;
      for (let k = i + 1; k <= i + 60; k++) expected += (((qin[k] ?? 0) - (qout[k] ?? 0)) / 3600) * 1000 / 0.4;
      const actual = (level[i + 60] ?? 0) - (level[i] ?? 0);
      expect(Math.abs(actual - expected)).toBeLessThan(12);
      if (expected > 30) {
        expect(actual).toBeGreaterThan(0);
        rising++;
      }
    }
    expect(rising).toBeGreaterThan(5);
  });

  it('the PLC keeps levels within their hysteresis bands', () => {
    const l101 = series('T-101', 'level_mm');
    const l601 = series('T-601', 'level_mm');
    expect(Math.min(...l101)).toBeGreaterThan(470);
    expect(Math.max(...l101)).toBeLessThan(830);
    expect(Math.max(...l601)).toBeLessThan(880);
    const mv = series('MV-101', 'state');
    for (let i = 1; i < mv.length; i++) {
      if (mv[i - 1] === 0 && mv[i] === 1) expect(l101[i - 1]).toBeLessThan(500);
      if (mv[i - 1] === 1 && mv[i] === 0) expect(l101[i - 1]).toBeGreaterThan(800);
    }
    const changes = mv.filter((v, i) => i > 0 && v !== mv[i - 1]).length;
    expect(changes).toBeGreaterThanOrEqual(2);
  });

  it('pump current and flow follow the drive speed; a stopped pump has no flow', () => {
    const speed = series('P-101', 'speed_pct');
    const cur = series('P-101', 'current_a');
    const flow = series('P-101', 'flow_m3h');
    const pairs = speed.map((s, i) => [s, cur[i] ?? 0, flow[i] ?? 0] as const).filter(([s]) => s > 0);
    const lo = pairs.filter(([s]) => s < 60);
    const hi = pairs.filter(([s]) => s > 80);
    expect(lo.length).toBeGreaterThan(10);
    expect(hi.length).toBeGreaterThan(10);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(hi.map((p) => p[1]))).toBeGreaterThan(mean(lo.map((p) => p[1])) + 1);
    expect(mean(hi.map((p) => p[2]))).toBeGreaterThan(mean(lo.map((p) => p[2])) + 0.4);
    const p301 = series('P-301', 'state');
    const f301 = series('P-301', 'flow_m3h');
    p301.forEach((s, i) => {
      if (s === 0) expect(Math.abs(f301[i] ?? 0)).toBeLessThan(0.2);
    });
  });

  it('is quiet when normal: no labels, no alarms, logins at a low rate', () => {
    expect(outs.some((o) => o.type === 'label')).toBe(false);
    const logs = outs.flatMap((o) => (o.type === 'event' && o.event.kind === 'log' ? [o.event as Omit<LogRecord, 'ingestTime'>] : []));
    expect(logs.filter((l) => l.fields['event.action'] === 'alarm')).toEqual([]);
    const auth = logs.filter((l) => l.fields['event.category'] === 'authentication');
    expect(auth.length).toBeLessThan(15);
    expect(logs.length).toBeGreaterThan(5); // PLC commands
    expect(logs.length).toBeLessThan(120);
  });
});
