/**
 * Each scenario must leave its signature in the data inside its labelled window, and nothing
 * similar outside it. One run of the default programme (all eight scenarios) is shared.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type { Label, LogRecord, Reading } from '../schema/events.ts';
import { createPlant, type SimOutput } from './plant.ts';
import { parsePngGray } from './png.ts';
import { BEARING_TONE_HZ } from './audio.ts';
import { defaultProgrammeEntry, resolveSchedule, SCENARIO_NAMES, SCENARIOS, type ScenarioName } from './scenarios.ts';
import { parseWav } from './wav.ts';

const T0 = Date.UTC(2024, 2, 1, 8);
type R = Omit<Reading, 'ingestTime'>;
type L = Omit<LogRecord, 'ingestTime'>;

let outs: SimOutput[] = [];
let labels: Label[] = [];
let rs: R[] = [];
let logs: L[] = [];

beforeAll(() => {
  // Long enough for one pass of the programme (all eight scenarios) plus a calm tail.
  const last = defaultProgrammeEntry(SCENARIO_NAMES.length - 1);
  const p = createPlant({ seed: 3, startTime: T0 });
  outs = p.advance(T0 + (last.at_secs + last.duration_secs + 60) * 1000);
  labels = outs.flatMap((o) => (o.type === 'label' ? [o.label] : []));
  rs = outs.flatMap((o) => (o.type === 'event' && o.event.kind === 'reading' ? [o.event] : []));
  logs = outs.flatMap((o) => (o.type === 'event' && o.event.kind === 'log' ? [o.event] : []));
});

const labelOf = (s: ScenarioName): Label => {
  const l = labels.find((x) => x.scenario === s);
  if (!l) throw new Error(`no label for ${s}`);
  return l;
};
const inside = (l: Label, t: number): boolean => t >= l.startTime && t <= l.endTime;
const series = (asset: string, metric: string): R[] => rs.filter((r) => r.asset === asset && r.metric === metric);
const valueAt = (asset: string, metric: string): Map<number, number> => new Map(series(asset, metric).map((r) => [r.time, r.value]));

function kurtosis(x: Float32Array): number {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let m2 = 0;
  let m4 = 0;
  for (const v of x) {
    const d = (v - m) ** 2;
    m2 += d;
    m4 += d * d;
  }
  m2 /= x.length;
  m4 /= x.length;
  return m4 / (m2 * m2);
}

/** Power at one frequency relative to the clip's energy (Goertzel). */
function toneRatio(x: Float32Array, f: number, fs: number): number {
  const c = 2 * Math.cos((2 * Math.PI * f) / fs);
  let s1 = 0;
  let s2 = 0;
  let e = 0;
  for (const v of x) {
    const s = v + c * s1 - s2;
    s2 = s1;
    s1 = s;
    e += v * v;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / x.length / e;
}

function clips(asset: string): Array<{ time: number; samples: Float32Array }> {
  return outs.flatMap((o) => (o.type === 'media' && o.event.kind === 'audio' && o.event.asset === asset ? [{ time: o.time, samples: parseWav(o.bytes).samples }] : []));
}

describe('schedule', () => {
  it('labels every scenario once, the first within 30 s of the start, windows not overlapping', () => {
    expect(labels.map((l) => l.scenario).sort()).toEqual([...SCENARIO_NAMES].sort());
    expect((labels[0]?.startTime ?? Infinity) - T0).toBeLessThanOrEqual(30_000);
    for (let i = 1; i < labels.length; i++) expect(labels[i]?.startTime).toBeGreaterThan(labels[i - 1]?.endTime ?? Infinity);
    for (const l of labels) {
      expect(l.kind).toBe(SCENARIOS[l.scenario as ScenarioName].kind);
      expect(l.site).toBe('plant-a');
      expect(l.assets.length).toBeGreaterThan(0);
    }
  });

  it('validates explicit schedules with a clear message', () => {
    expect(() => resolveSchedule([{ scenario: 'meteor', at_secs: 1 }])).toThrow(/schedule\[0\]\.scenario: unknown scenario "meteor"/);
    expect(() => resolveSchedule([{ scenario: 'intruder', at_secs: -1 }])).toThrow(/schedule\[0\]\.at_secs/);
    expect(resolveSchedule([{ scenario: 'intruder', at_secs: 50 }, { scenario: 'tank_overflow', at_secs: 5, duration_secs: 9 }])).toEqual([
      { scenario: 'tank_overflow', at_secs: 5, duration_secs: 9 },
      { scenario: 'intruder', at_secs: 50, duration_secs: 90 },
    ]);
  });

  it('runs an explicit list, and none at all', () => {
    const p = createPlant({ seed: 1, startTime: T0, schedule: [{ scenario: 'login_bruteforce', at_secs: 5, duration_secs: 30 }], audioEverySecs: 0, imageEverySecs: 0 });
    const ls = p.advance(T0 + 60_000).flatMap((o) => (o.type === 'label' ? [o.label] : []));
    expect(ls).toMatchObject([{ scenario: 'login_bruteforce', startTime: T0 + 5000, endTime: T0 + 35_000 }]);
    const q = createPlant({ seed: 1, startTime: T0, schedule: 'none', audioEverySecs: 0, imageEverySecs: 0 });
    expect(q.advance(T0 + 600_000).some((o) => o.type === 'label')).toBe(false);
  });
});

describe('scenario signatures', () => {
  it('pump_cavitation: P-101 vibration up, flow down and crackle in its audio, only in the window', () => {
    const l = labelOf('pump_cavitation');
    const state = valueAt('P-101', 'state');
    const speed = valueAt('P-101', 'speed_pct');
    const vib = series('P-101', 'vibration_mm_s').filter((r) => state.get(r.time) === 1);
    expect(vib.filter((r) => inside(l, r.time) && r.value > 3.5).length).toBeGreaterThan(30);
    expect(vib.filter((r) => !inside(l, r.time) && r.value > 3.5)).toEqual([]);
    // Flow per unit of drive speed drops.
    const eff = series('P-101', 'flow_m3h').flatMap((r) => {
      const s = speed.get(r.time) ?? 0;
      return s > 0 ? [{ t: r.time, e: r.value / (2.4 * s / 100) }] : [];
    });
    expect(eff.filter((x) => inside(l, x.t) && x.e < 0.8).length).toBeGreaterThan(30);
    expect(eff.filter((x) => !inside(l, x.t) && x.e < 0.8)).toEqual([]);
    const late = l.startTime + 0.3 * (l.endTime - l.startTime);
    const cs = clips('P-101').filter((c) => state.get(c.time) === 1 && c.time < l.endTime);
    const kIn = cs.filter((c) => c.time >= late && inside(l, c.time)).map((c) => kurtosis(c.samples));
    const kOut = cs.filter((c) => !inside(l, c.time)).map((c) => kurtosis(c.samples));
    expect(kIn.length).toBeGreaterThan(5);
    expect(Math.min(...kIn)).toBeGreaterThan(4);
    expect(Math.max(...kOut)).toBeLessThan(4);
  });

  it('bearing_wear: P-601 vibration rises gradually and a bearing tone appears, only in the window', () => {
    const l = labelOf('bearing_wear');
    const vib = series('P-601', 'vibration_mm_s').filter((r) => r.value > 0.5);
    const win = vib.filter((r) => inside(l, r.time) && r.time < l.endTime);
    const firstQ = win.slice(0, Math.floor(win.length / 4));
    const lastQ = win.slice(-Math.floor(win.length / 4));
    const mean = (xs: R[]): number => xs.reduce((s, r) => s + r.value, 0) / xs.length;
    expect(mean(lastQ)).toBeGreaterThan(mean(firstQ) + 3);
    expect(Math.max(...vib.filter((r) => !inside(l, r.time)).map((r) => r.value))).toBeLessThan(3.5);
    const mid = (l.startTime + l.endTime) / 2;
    const cs = clips('P-601');
    const tone = (c: { samples: Float32Array }): number => toneRatio(c.samples, BEARING_TONE_HZ, 16000);
    const late = cs.filter((c) => c.time >= mid && c.time < l.endTime);
    expect(late.length).toBeGreaterThan(5);
    expect(Math.min(...late.map(tone))).toBeGreaterThan(1e-3);
    expect(Math.max(...cs.filter((c) => !inside(l, c.time)).map(tone))).toBeLessThan(1e-3);
    expect(logs.some((g) => inside(l, g.time) && g.message.includes('P-601 VIBRATION HIGH'))).toBe(true);
  });

  it('sensor_spoofing: T-101 level stops following the mass balance, only in the window', () => {
    const l = labelOf('sensor_spoofing');
    const level = series('T-101', 'level_mm');
    const qin = valueAt('MV-101', 'flow_m3h');
    const qout = valueAt('P-101', 'flow_m3h');
    let hits = 0;
    for (let i = 0; i + 60 < level.length; i += 10) {
      const a = level[i] as R;
      const b = level[i + 60] as R;
      let expected = 0;
      for (let k = i + 1; k <= i + 60; k++) {
        const t = (level[k] as R).time;
        expected += ((((qin.get(t) ?? 0) - (qout.get(t) ?? 0)) / 3600) * 1000) / 0.4;
      }
      const mismatch = Math.abs(b.value - a.value - expected);
      const overlaps = b.time >= l.startTime && a.time <= l.endTime;
      if (!overlaps) expect(mismatch).toBeLessThan(15);
      if (a.time >= l.startTime && b.time <= l.startTime + 0.75 * (l.endTime - l.startTime) && mismatch > 25) hits++;
    }
    expect(hits).toBeGreaterThan(3);
  });

  it('valve_manipulation: an unauthorised write forces MV-101 open above its setpoint, only in the window', () => {
    const l = labelOf('valve_manipulation');
    const writes = logs.filter((g) => g.fields['event.action'] === 'modbus.write' && g.fields['source.ip'] !== '10.0.1.10');
    expect(writes.length).toBeGreaterThanOrEqual(1);
    for (const w of writes) expect(inside(l, w.time)).toBe(true);
    const level = valueAt('T-101', 'level_mm');
    const openHigh = series('MV-101', 'state').filter((r) => r.value === 1 && (level.get(r.time) ?? 0) > 830);
    expect(openHigh.filter((r) => inside(l, r.time)).length).toBeGreaterThan(5);
    // sensor_spoofing's aftermath shares this symptom (the PLC was fooled into filling), so the
    // check outside is against every labelled window
    for (const r of openHigh) expect(labels.some((x) => inside(x, r.time))).toBe(true);
    // the forced state acts from the tick after the write
    const flow = series('MV-101', 'flow_m3h').filter((r) => r.time > l.startTime + 1000 && r.time < l.startTime + 60_000);
    expect(flow.length).toBeGreaterThan(50);
    expect(flow.every((r) => r.value > 3)).toBe(true);
  });

  it('tank_overflow: T-601 rises past high-high and overflows, with alarms, only in the window', () => {
    const l = labelOf('tank_overflow');
    const high = series('T-601', 'level_mm').filter((r) => r.value > 1000);
    expect(high.length).toBeGreaterThan(10);
    for (const r of high) expect(inside(l, r.time)).toBe(true);
    expect(Math.max(...high.map((r) => r.value))).toBeGreaterThan(1150);
    const alarms = logs.filter((g) => g.message.startsWith('ALARM T-601 HIGH-HIGH'));
    expect(alarms.length).toBeGreaterThanOrEqual(1);
    for (const a of alarms) expect(inside(l, a.time)).toBe(true);
    const trips = logs.filter((g) => g.fields['event.action'] === 'equipment.trip');
    expect(trips.length).toBe(1);
    expect(inside(l, trips[0]!.time)).toBe(true);
  });

  it('intruder: a figure in the intake camera and a maintenance login at the HMI, only in the window', () => {
    const l = labelOf('intruder');
    const frames = outs.flatMap((o) => (o.type === 'media' && o.event.kind === 'image' && o.event.asset === 'cam-intake' ? [{ time: o.time, px: parsePngGray(o.bytes).pixels }] : []));
    // Background: per-pixel median of frames outside the window; compare after removing the lighting gain.
    const outside = frames.filter((f) => !inside(l, f.time));
    const sample = outside.filter((_, i) => i % 3 === 0); // enough frames for a stable median
    const n = frames[0]!.px.length;
    const bg = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const vs = sample.map((f) => f.px[i] ?? 0).sort((a, b) => a - b);
      bg[i] = vs[Math.floor(vs.length / 2)] ?? 0;
    }
    const changed = (px: Uint8Array): number => {
      const ratios = Array.from(px, (v, i) => v / Math.max(1, bg[i] ?? 1)).sort((a, b) => a - b);
      const g = ratios[Math.floor(ratios.length / 2)] ?? 1;
      let c = 0;
      for (let i = 0; i < n; i++) if (Math.abs((px[i] ?? 0) - g * (bg[i] ?? 0)) > 35) c++;
      return c;
    };
    const inFrames = frames.filter((f) => inside(l, f.time) && f.time < l.endTime);
    expect(inFrames.length).toBeGreaterThan(10);
    for (const f of inFrames) expect(changed(f.px)).toBeGreaterThan(40);
    for (const f of outside) expect(changed(f.px)).toBeLessThan(5);
    const maint = logs.filter((g) => g.fields['user.name'] === 'maint');
    expect(maint.length).toBe(1);
    expect(inside(l, maint[0]!.time)).toBe(true);
    expect(maint[0]!.fields['event.outcome']).toBe('success');
  });

  it('login_bruteforce: a burst of failed logins then a success from the same address, only in the window', () => {
    const l = labelOf('login_bruteforce');
    const fails = logs.filter((g) => g.fields['event.category'] === 'authentication' && g.fields['event.outcome'] === 'failure');
    const bursty = fails.filter((f) => fails.filter((g) => g.time > f.time - 60_000 && g.time <= f.time).length >= 5);
    expect(bursty.length).toBeGreaterThan(20);
    for (const f of bursty) expect(inside(l, f.time)).toBe(true);
    const ip = bursty[0]!.fields['source.ip'];
    const ok = logs.filter((g) => g.fields['event.outcome'] === 'success' && g.fields['source.ip'] === ip);
    expect(ok.length).toBe(1);
    expect(inside(l, ok[0]!.time)).toBe(true);
  });

  it('stalled_sensor: AIT-202 pH freezes or goes silent, only in the window', () => {
    const l = labelOf('stalled_sensor');
    const ph = series('AIT-202', 'ph');
    let stalledIn = 0;
    for (let i = 1; i < ph.length; i++) {
      const a = ph[i - 1] as R;
      const b = ph[i] as R;
      const stalled = b.time - a.time > 1500 || a.value === b.value;
      // a silent gap straddles the window's edges, so test for overlap
      if (stalled && b.time >= l.startTime && a.time <= l.endTime) stalledIn++;
      else if (stalled) {
        // an isolated repeat can happen by rounding; a run of five cannot
        const run = ph.slice(i, i + 4).every((r) => r.value === a.value);
        expect(run).toBe(false);
      }
    }
    expect(stalledIn).toBeGreaterThan(0);
    const inWin = ph.filter((r) => inside(l, r.time) && r.time < l.endTime);
    const frozen = inWin.length > 0 && inWin.every((r) => r.value === inWin[0]!.value);
    expect(frozen || inWin.length === 0).toBe(true);
  });
});
