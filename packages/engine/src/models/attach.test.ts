import { describe, expect, it } from 'vitest';
import type { Anomaly, Incident, MediaRef } from '../../../core/src/schema/events.ts';
import type { SinkRecord } from '../runtime/types.ts';
import { attachHeatmaps, type HeatmapLookup } from './attach.ts';

const T = 1_700_000_000_000;
const refOf = (c: string): MediaRef => ({
  uri: `blob://${c.repeat(64)}`,
  contentType: 'image/png',
  bytes: 100,
  sha256: c.repeat(64),
});
/** Heat maps of cam-intake at T (frame f1) and T+5 s (frame f2). */
const stored = [
  { frameId: 'f1', asset: 'cam-intake', time: T, ref: refOf('a') },
  { frameId: 'f2', asset: 'cam-intake', time: T + 5000, ref: refOf('b') },
];
const lookup: HeatmapLookup = {
  heatmapRef: (id) => stored.find((s) => s.frameId === id)?.ref,
  heatmapNear: (asset, time, maxAge) =>
    stored
      .filter((s) => s.asset === asset && s.time <= time && time - s.time <= maxAge)
      .sort((x, y) => y.time - x.time)[0]?.ref,
};
const anomaly = (id: string, over: Partial<Anomaly>): Anomaly => ({
  id,
  time: T,
  site: 'plant-a',
  asset: 'cam-intake',
  detector: 'camera-model',
  detectorType: 'threshold_duration',
  modality: 'image',
  metric: 'image_ae_error',
  score: 1,
  severity: 'critical',
  reason: 'image_ae_error 9 > 6.2 for 5 s',
  detail: { held_secs: 5 },
  ...over,
});
const incident = (evidence: Anomaly[]): Incident => ({
  id: 'inc-1',
  site: 'plant-a',
  assets: ['cam-intake'],
  status: 'open',
  severity: 'critical',
  modalities: ['image'],
  startTime: T,
  lastTime: T,
  anomalyCount: evidence.length,
  evidence,
  explanation: '',
  peakScore: 1,
  revision: 1,
});
const ref = (r: SinkRecord | undefined) =>
  r?.type === 'anomaly' ? r.anomaly.detail?.['heatmap_ref'] : 'not an anomaly';

describe('attachHeatmaps', () => {
  it('uses the frame of the anomaly, else the latest heat map of its camera within the age limit', () => {
    const records: SinkRecord[] = [
      { type: 'anomaly', anomaly: anomaly('by-frame', { eventId: 'f1', time: T + 7000 }) },
      { type: 'anomaly', anomaly: anomaly('on-tick', { time: T + 9000 }) },
      { type: 'anomaly', anomaly: anomaly('too-late', { time: T + 60_000 }) },
      { type: 'anomaly', anomaly: anomaly('other-camera', { asset: 'cam-ro-hall', time: T + 1000 }) },
      {
        type: 'anomaly',
        anomaly: anomaly('a-pump', { asset: 'cam-intake', modality: 'reading', metric: 'flow_m3h', time: T + 1000 }),
      },
      { type: 'incident', incident: incident([anomaly('in-evidence', { time: T + 2000 })]) },
    ];
    expect(attachHeatmaps(records, lookup)).toBe(3);
    expect(records.slice(0, 5).map(ref)).toEqual([refOf('a').uri, refOf('b').uri, undefined, undefined, undefined]);
    const first = records[0];
    expect(first?.type === 'anomaly' && first.anomaly.detail).toEqual({ held_secs: 5, heatmap_ref: refOf('a').uri });
    const inc = records[5];
    expect(inc?.type === 'incident' && inc.incident.evidence[0]?.detail?.['heatmap_ref']).toBe(refOf('a').uri);
    // Idempotent: a marked anomaly keeps its reference.
    expect(attachHeatmaps(records, lookup)).toBe(0);
  });
});
