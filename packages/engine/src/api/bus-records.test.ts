import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Anomaly, Incident } from '../../../core/src/schema/events.ts';
import { decodeBusRecord, RecentIds } from './bus-records.ts';

const T = Date.UTC(2026, 0, 1);
const anomaly: Anomaly = {
  id: 'a-1',
  time: T,
  site: 'plant-a',
  asset: 'T-101',
  detector: 'tank-high',
  detectorType: 'threshold_duration',
  modality: 'reading',
  metric: 'level_mm',
  score: 0.9,
  severity: 'critical',
  reason: 'level_mm 960 > 950 for 10 s',
};
const incident: Incident = {
  id: 'inc-1',
  site: 'plant-a',
  assets: ['T-101'],
  status: 'open',
  severity: 'critical',
  modalities: ['reading'],
  startTime: T,
  lastTime: T + 1000,
  anomalyCount: 1,
  evidence: [anomaly],
  explanation: 'tank high',
  peakScore: 0.9,
  revision: 2,
};
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('decodeBusRecord', () => {
  it('decodes what the kafka sink writes, per topic', () => {
    expect(decodeBusRecord('anomalies', buf(anomaly), T)).toEqual({
      ok: true,
      record: { type: 'anomaly', anomaly },
    });
    expect(decodeBusRecord('incidents', buf(incident), T)).toEqual({
      ok: true,
      record: { type: 'incident', incident },
    });
    const dl = { id: 'dl-1', time: T, component: 'ingest', where: 'http', reason: '/value: bad', raw: '{}' };
    expect(decodeBusRecord('deadletters', buf(dl), T)).toEqual({
      ok: true,
      record: { type: 'deadletter', deadLetter: dl },
    });
    const reading = {
      kind: 'reading',
      id: 'r-1',
      time: T,
      site: 'plant-a',
      asset: 'T-101',
      metric: 'level_mm',
      value: 1,
    };
    const r = decodeBusRecord('readings', buf(reading), T + 5);
    expect(r.ok && r.record.type === 'event' && r.record.event.ingestTime).toBe(T + 5);
  });

  it('names what is wrong', () => {
    const reason = (r: ReturnType<typeof decodeBusRecord>) => (r.ok ? '' : r.reason);
    expect(reason(decodeBusRecord('anomalies', buf('{'), T))).toMatch(/^not JSON/);
    expect(reason(decodeBusRecord('anomalies', buf({ ...anomaly, score: 'x' }), T))).toMatch(/^\/score: /);
    expect(decodeBusRecord('incidents', buf({ ...incident, revision: '2' }), T)).toEqual({
      ok: false,
      reason: '/revision: expected a finite number',
    });
    expect(decodeBusRecord('incidents', buf({ ...incident, status: 'closed' }), T)).toEqual({
      ok: false,
      reason: '/status: expected open or resolved',
    });
    expect(decodeBusRecord('deadletters', buf([1]), T)).toEqual({ ok: false, reason: '/: expected a JSON object' });
    expect(decodeBusRecord('readings', buf({ kind: 'reading' }), T).ok).toBe(false);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('anomalies', 'incidents', 'deadletters', 'readings', 'logs', 'audio', 'images' as const),
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.json().map((j) => new Uint8Array(Buffer.from(j))),
        ),
        (role, bytes) => {
          const r = decodeBusRecord(role, bytes, T);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('RecentIds', () => {
  it('reports repeats within the window and forgets the oldest beyond it', () => {
    const s = new RecentIds(2);
    expect(s.add('a')).toBe(true);
    expect(s.add('a')).toBe(false);
    expect(s.add('b')).toBe(true);
    expect(s.add('c')).toBe(true); // evicts a
    expect(s.size).toBe(2);
    expect(s.add('b')).toBe(false);
    expect(s.add('a')).toBe(true);
  });
});
