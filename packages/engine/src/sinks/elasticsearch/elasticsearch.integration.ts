// The Elasticsearch sink against the real OpenSearch (scripts/services/opensearch.sh start, or
// RETIMUAD_OPENSEARCH_URL): templates installed, ECS documents searchable, a refused document
// dead-lettered with its reason, incidents upserted by id without going back a revision.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../../core/src/schema/events.ts';
import type { DeadLetter } from '../../runtime/types.ts';
import { incidentFixture, memoryLogger, T0 } from '../testing.ts';
import { createElasticsearchSink } from './elasticsearch.ts';
import { KIBANA_SEARCHES, kqlFields } from './kibana.ts';
import { esIndexPattern } from './schema.ts';
import { grafanaDashboards } from '../influxdb/grafana.ts';
import { esDeleteIndices, esSearch, openSearchUrl, pick } from './testing.ts';

const prefix = `itest-${process.pid}-${Date.now()}`;
let url = '';

beforeAll(async () => {
  url = await openSearchUrl();
}, 300_000);

afterAll(async () => {
  if (url) await esDeleteIndices(url, `${prefix}*`);
});

function logRecord(i: number, fields: LogRecord['fields'] = {}): LogRecord {
  return {
    kind: 'log',
    id: `log-${i}`,
    time: T0 + i * 1000,
    ingestTime: T0 + i * 1000 + 5,
    site: 'plant-a',
    asset: 'PLC-1',
    source: 'simulator',
    stage: 'intake',
    level: i % 10 === 0 ? 'error' : 'info',
    message: `login attempt ${i}`,
    fields: {
      'user.name': 'operator',
      'event.outcome': i % 10 === 0 ? 'failure' : 'success',
      'source.ip': '10.0.0.7',
      plc_slot: i % 4,
      ...fields,
    },
  };
}

describe('elasticsearch sink against a real OpenSearch', () => {
  it('installs templates, indexes ECS documents, dead-letters a refused one, upserts incidents', async () => {
    const { logger } = memoryLogger();
    const dead: DeadLetter[] = [];
    const sink = await createElasticsearchSink(
      { url, index_prefix: prefix, replicas: 0, refresh: 'wait_for' },
      { logger, onDeadLetter: (d) => void dead.push(d) },
    );
    await sink.ready();
    const tpl = (await (await fetch(`${url}/_index_template/${prefix}-logs`)).json()) as {
      index_templates?: unknown[];
    };
    expect(tpl.index_templates).toHaveLength(1);

    const logs = Array.from({ length: 50 }, (_, i) => ({ type: 'event' as const, event: logRecord(i) }));
    // source.ip is mapped as an ip: this one cannot be indexed and must come back as a dead letter.
    logs.push({ type: 'event', event: logRecord(999, { 'source.ip': 'not-an-ip' }) });
    await sink.write([
      ...logs,
      {
        type: 'anomaly',
        anomaly: {
          id: 'an-1',
          time: T0,
          site: 'plant-a',
          asset: 'P-101',
          detector: 'flow-z',
          detectorType: 'rolling_zscore',
          modality: 'reading',
          metric: 'flow_m3h',
          score: 0.91,
          severity: 'critical',
          reason: 'flow_m3h 41.2 > 40 for 35 s',
          value: 41.2,
          detail: { z: 8.5, mode: 'running' },
        },
      },
      { type: 'incident', incident: incidentFixture({ revision: 1 }) },
      {
        type: 'deadletter',
        deadLetter: {
          id: 'dl-1',
          time: T0,
          component: 'plant',
          where: 'file.csv:17',
          reason: '/value: expected a finite number',
          raw: '{"value":"abc"}',
        },
      },
    ]);

    expect(dead).toHaveLength(1);
    expect(dead[0]?.where).toMatch(new RegExp(`^elasticsearch ${prefix}-logs-\\d{4}\\.\\d{2}/log-999$`));
    expect(dead[0]?.reason).toMatch(/^400 mapper_parsing_exception: .*source\.ip/);

    const logsFound = await esSearch(url, `${prefix}-logs-*`, {
      query: { bool: { filter: [{ term: { 'log.level': 'error' } }, { term: { 'event.outcome': 'failure' } }] } },
    });
    expect(logsFound.total).toBe(5);
    const one = logsFound.hits[0]?._source ?? {};
    expect(pick(one, 'event.dataset')).toBe('retimuad.log');
    expect(pick(one, 'host.name')).toBe('PLC-1');
    expect(pick(one, 'user.name')).toBe('operator');
    expect(pick(one, 'retimuad.fields.plc_slot')).toMatch(/^[0-3]$/);
    const all = await esSearch(url, `${prefix}-logs-*`, { size: 0, query: { match: { message: 'login' } } });
    expect(all.total).toBe(50);

    const an = await esSearch(url, `${prefix}-anomalies-*`, { query: { range: { 'event.risk_score': { gte: 90 } } } });
    expect(an.hits.map((h) => [h._id, pick(h._source, 'rule.ruleset'), pick(h._source, 'retimuad.detail.z')])).toEqual([
      ['an-1', 'rolling_zscore', '8.5'],
    ]);
    const dls = await esSearch(url, `${prefix}-deadletters-*`, { query: { term: { 'event.kind': 'pipeline_error' } } });
    expect(dls.total).toBe(1);

    // Upserts: revision 3 then a replay of revision 2 (and of 3): one document, at revision 3.
    await sink.write([
      {
        type: 'incident',
        incident: incidentFixture({ revision: 3, status: 'resolved', endTime: T0 + 60_000, severity: 'critical' }),
      },
    ]);
    await sink.write([
      { type: 'incident', incident: incidentFixture({ revision: 2, severity: 'warning' }) },
      {
        type: 'incident',
        incident: incidentFixture({ revision: 3, status: 'resolved', endTime: T0 + 60_000, severity: 'critical' }),
      },
    ]);
    const inc = await esSearch(url, `${prefix}-incidents*`, { query: { term: { 'event.id': 'inc-plant-a-1' } } });
    expect(inc.total).toBe(1);
    expect(inc.hits[0]?._version).toBe(3);
    expect(pick(inc.hits[0]?._source ?? {}, 'retimuad.incident.status')).toBe('resolved');
    expect(pick(inc.hits[0]?._source ?? {}, 'event.severity')).toBe(3);
    expect(sink.stats().conflicts).toBe(1);
    await sink.close();

    // Every field the Kibana searches and Grafana Elasticsearch panels name exists in the indices as stored.
    const caps = async (kind: 'logs' | 'anomalies' | 'incidents' | 'deadletters'): Promise<Set<string>> => {
      const r = (await (await fetch(`${url}/${esIndexPattern(prefix, kind)}/_field_caps?fields=*`)).json()) as {
        fields: Record<string, unknown>;
      };
      return new Set(Object.keys(r.fields));
    };
    const missing: string[] = [];
    for (const s of KIBANA_SEARCHES) {
      const have = await caps(s.kind);
      for (const f of [...s.columns, ...kqlFields(s.query), ...s.sort.map(([f]) => f)])
        if (!have.has(f)) missing.push(`${s.id}: ${f}`);
    }
    const kindOfUid = {
      'retimuad-es-logs': 'logs',
      'retimuad-es-anomalies': 'anomalies',
      'retimuad-es-incidents': 'incidents',
    } as const;
    for (const d of grafanaDashboards()) {
      for (const p of d.panels) {
        for (const t of p.targets) {
          if (!('timeField' in t)) continue;
          const have = await caps(kindOfUid[t.datasource.uid as keyof typeof kindOfUid]);
          const used = [
            t.timeField,
            ...kqlFields(t.query),
            ...t.metrics.flatMap((m) => (m.field ? [m.field] : [])),
            ...t.bucketAggs.map((b) => b.field),
          ];
          for (const f of used) if (!have.has(f)) missing.push(`${d.uid}/${p.title}: ${f}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
