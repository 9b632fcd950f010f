import { describe, expect, it } from 'vitest';
import { incidentFixture } from '../testing.ts';
import { topicLayout } from '../../kafka/topics.ts';
import { reading } from '../../runtime/testing.ts';
import type { SinkRecord, SinkRecordType } from '../../runtime/types.ts';
import type { Anomaly } from '../../../../core/src/schema/events.ts';
import { toKafkaRecords } from './kafka.ts';

const layout = topicLayout({ prefix: 'p' });
const inc = incidentFixture();
const anomaly: Anomaly = {
  id: 'a1',
  time: 1,
  site: 'plant-a',
  asset: 'P-101',
  detector: 'd',
  detectorType: 'threshold_duration',
  modality: 'reading',
  metric: 'flow_m3h',
  score: 1,
  severity: 'warning',
  reason: 'flow_m3h 41.2 > 40 for 35 s',
};
const batch: SinkRecord[] = [
  { type: 'incident', incident: inc },
  { type: 'anomaly', anomaly },
  {
    type: 'deadletter',
    deadLetter: { id: 'dl-1', time: 1, component: 'ingest-http', where: 'x', reason: 'bad', raw: '{}' },
  },
  { type: 'event', event: reading(1, 5) },
  { type: 'score', score: { time: 1, site: 's', asset: 'a', detector: 'd', metric: 'm', score: 0.5 } },
];

describe('toKafkaRecords', () => {
  it('keys incidents by id with their revision, anomalies by site/asset, dead letters by component', () => {
    const all = new Set<SinkRecordType>(['incident', 'anomaly', 'deadletter', 'event', 'score']);
    const out = toKafkaRecords(batch, layout, all, 'stage');
    expect([...out.keys()].sort()).toEqual(['p.anomalies', 'p.deadletters', 'p.incidents', 'p.readings']);
    const i = out.get('p.incidents')![0]!;
    expect([i.key, i.headers, JSON.parse(String(i.value))]).toEqual([
      inc.id,
      { revision: String(inc.revision), status: inc.status },
      inc,
    ]);
    expect(out.get('p.anomalies')![0]!.key).toBe(`${anomaly.site}/${anomaly.asset}`);
    expect(out.get('p.deadletters')![0]!.key).toBe('ingest-http');
    expect(out.get('p.readings')![0]!.key).toBe('plant-a/stage:intake');
  });

  it('writes only the included types', () => {
    const out = toKafkaRecords(batch, layout, new Set<SinkRecordType>(['incident']), 'asset');
    expect([...out.keys()]).toEqual(['p.incidents']);
  });
});
