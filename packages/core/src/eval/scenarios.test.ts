import { describe, expect, it } from 'vitest';
import { scoreDetections, scoreScenarios, singleModalityIncidents, summariseByScenario } from './scenarios.ts';
import type { Anomaly, Incident, Label } from '../schema/events.ts';
import type { CorrelatorParams } from '../correlator/index.ts';

const T0 = Date.UTC(2026, 0, 1);
const P: CorrelatorParams = {
  window_secs: 60,
  resolve_after_secs: 60,
  group_by: 'stage',
  related: [],
  min_severity: 'warning',
  max_evidence: 5,
};

const label = (scenario: string, startS: number, endS: number, assets: string[]): Label => ({
  scenario,
  kind: 'fault',
  site: 'plant-a',
  assets,
  modalities: ['reading'],
  startTime: T0 + startS * 1000,
  endTime: T0 + endS * 1000,
  description: '',
});
const incident = (id: string, startS: number, endS: number, assets: string[]): Incident => ({
  id,
  site: 'plant-a',
  assets,
  status: 'resolved',
  severity: 'warning',
  modalities: ['reading'],
  startTime: T0 + startS * 1000,
  lastTime: T0 + endS * 1000,
  endTime: T0 + endS * 1000,
  anomalyCount: 1,
  evidence: [],
  explanation: '',
  peakScore: 1,
  revision: 2,
});
const anomaly = (id: string, s: number, modality: Anomaly['modality'], asset = 'P-101'): Anomaly => ({
  id,
  time: T0 + s * 1000,
  site: 'plant-a',
  asset,
  stage: 'intake',
  detector: 'd',
  detectorType: 't',
  modality,
  score: 0.9,
  severity: 'warning',
  reason: 'r',
});

describe('scenario scoring', () => {
  it('counts overlaps on a shared asset as detections, with delay, and the rest as false alarms', () => {
    const labels = [
      label('a', 100, 200, ['P-101']),
      label('b', 500, 600, ['T-601']),
      label('c', 900, 1000, ['AIT-202']),
    ];
    const incs = [
      incident('i1', 110, 150, ['P-101']),
      incident('i2', 650, 700, ['T-601']),
      incident('i3', 300, 320, ['P-101']),
      incident('i4', 880, 890, ['X']),
    ];
    const s = scoreDetections(labels, incs, 60);
    // i2 starts 50 s after b ended: within the 60 s grace; i3 and i4 match nothing.
    expect(s.detected).toBe(2);
    expect(s.truePositives).toBe(2);
    expect(s.precision).toBe(0.5);
    expect(s.recall).toBeCloseTo(2 / 3, 12);
    expect(s.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 12);
    expect(s.perLabel.map((p) => p.delaySecs)).toEqual([10, 150, null]);
    expect(s.delayMedianSecs).toBe(10);
    expect(scoreDetections(labels, [], 60).f1).toBe(0);
  });

  it('builds single-modality incidents with the same correlator, and scores each modality', () => {
    const an = [anomaly('r1', 100, 'reading'), anomaly('a1', 105, 'audio'), anomaly('a2', 400, 'audio')];
    expect(singleModalityIncidents(an, 'audio', P, T0 + 1_000_000)).toHaveLength(2);
    const r = scoreScenarios({
      labels: [label('cav', 90, 200, ['P-101'])],
      anomalies: an,
      incidents: [incident('c', 100, 130, ['P-101'])],
      correlator: P,
      endTime: T0 + 1_000_000,
    });
    expect(r.combined.f1).toBe(1);
    expect(r.byModality.audio?.precision).toBe(0.5);
    expect(r.byModality.reading?.recall).toBe(1);
    expect(r.byModality.log).toBeUndefined();
  });

  it('measures delay from the first anomaly on a label asset, not from an incident already open', () => {
    // i1 opened at 50 s for something else and was still open when label a began at 100 s.
    const labels = [label('a', 100, 200, ['P-101']), label('a', 400, 500, ['P-101']), label('b', 700, 800, ['T-601'])];
    const incs = [incident('i1', 50, 190, ['P-101', 'T-101']), incident('i2', 430, 460, ['P-101'])];
    const an = [anomaly('x', 60, 'reading', 'T-101'), anomaly('y', 112, 'reading'), anomaly('z', 430, 'audio')];
    const s = scoreScenarios({ labels, anomalies: an, incidents: incs, correlator: P, endTime: T0 + 1_000_000 });
    expect(s.combined.perLabel.map((p) => [p.delaySecs, p.anomalyDelaySecs])).toEqual([
      [-50, 12],
      [30, 30],
      [null, null],
    ]);
    expect(summariseByScenario(s)).toEqual([
      {
        scenario: 'a',
        labels: 2,
        detected: 2,
        byModality: { reading: 1, audio: 1 },
        delayMedianSecs: 12,
        delayMaxSecs: 30,
      },
      {
        scenario: 'b',
        labels: 1,
        detected: 0,
        byModality: { reading: 0, audio: 0 },
        delayMedianSecs: null,
        delayMaxSecs: null,
      },
    ]);
  });
});
