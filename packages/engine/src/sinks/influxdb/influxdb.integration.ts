// The InfluxDB sink against the real Debian InfluxDB 1.x (scripts/services/influxdb.sh start,
// or RETIMUAD_INFLUXDB_URL): write through the sink, read back with InfluxQL, and survive an
// outage (the server stopped mid-write and restarted: every point arrives).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../runtime/types.ts';
import { incidentFixture, memoryLogger, T0 } from '../testing.ts';
import { grafanaDashboards, influxQueries } from './grafana.ts';
import { createInfluxSink } from './influxdb.ts';
import { influxQuery, influxScalar, influxService, influxUrl, readingRecords } from './testing.ts';

const db = `itest_${process.pid}_${Date.now()}`;
let url = '';
const managed = process.env['RETIMUAD_INFLUXDB_URL'] === undefined || process.env['RETIMUAD_INFLUXDB_URL'] === '';

beforeAll(async () => {
  url = await influxUrl();
}, 120_000);

afterAll(async () => {
  if (url) await influxQuery(url, db, `DROP DATABASE "${db}"`).catch(() => undefined);
});

describe('influxdb sink against a real InfluxDB 1.x', () => {
  it('writes readings, scores, anomalies and incidents that InfluxQL reads back', async () => {
    const { logger } = memoryLogger();
    const dead: DeadLetter[] = [];
    const sink = await createInfluxSink(
      { url, database: db, create_database: true, batch_size: 1000 },
      { logger, onDeadLetter: (d) => void dead.push(d) },
    );
    const readings = readingRecords(5000, T0);
    await sink.write(readings);
    await sink.write([
      {
        type: 'score',
        score: { time: T0, site: 'plant-a', asset: 'P-100', detector: 'flow z', metric: 'flow_m3h', score: 0.25 },
      },
      {
        type: 'anomaly',
        anomaly: {
          id: 'an-1',
          time: T0 + 1,
          site: 'plant-a',
          asset: 'P-100',
          detector: 'flow z',
          detectorType: 'rolling_zscore',
          modality: 'reading',
          metric: 'flow_m3h',
          score: 0.97,
          severity: 'critical',
          reason: 'flow_m3h 41.2 > 40 for 35 s, "quoted" \\ back',
          value: 41.2,
        },
      },
      { type: 'incident', incident: incidentFixture({ revision: 1 }) },
      {
        type: 'incident',
        incident: incidentFixture({ revision: 2, status: 'resolved', endTime: T0 + 90_000, anomalyCount: 5 }),
      },
    ]);
    await sink.close();
    expect(dead).toEqual([]);
    expect(await influxScalar(url, db, 'SELECT count("value") FROM "readings"')).toBe(5000);
    expect(await influxScalar(url, db, `SELECT sum("value") FROM "readings"`)).toBeCloseTo((4999 * 5000 * 0.5) / 2, 6);
    const byAsset = await influxQuery(
      url,
      db,
      `SELECT count("value") FROM "readings" WHERE "asset" = 'P-103' AND "quality" = 'good'`,
    );
    expect(byAsset[0]?.values[0]?.[1]).toBe(500);
    expect(await influxScalar(url, db, `SELECT "score" FROM "scores" WHERE "detector" = 'flow z'`)).toBe(0.25);
    const an = await influxQuery(
      url,
      db,
      `SELECT "reason", "score", "value" FROM "anomalies" WHERE "severity" = 'critical'`,
    );
    expect(an[0]?.values[0]?.slice(1)).toEqual(['flow_m3h 41.2 > 40 for 35 s, "quoted" \\ back', 0.97, 41.2]);
    // Two revisions of one incident are one point: the upsert keeps the latest.
    const inc = await influxQuery(
      url,
      db,
      `SELECT "status", "revision", "anomaly_count", "explanation", "open" FROM "incidents" WHERE "incident_id" = 'inc-plant-a-1'`,
    );
    expect(inc[0]?.values).toEqual([
      [T0, 'resolved', 2, 5, 'flow_m3h 41.2 > 40 for 35 s\nand 3 failed logins on PLC-1', 0],
    ]);
  });

  it('answers every generated Grafana InfluxQL query with data (macros filled as Grafana would)', async () => {
    const fill = (query: string): string =>
      query
        .replaceAll('$timeFilter', `time >= ${T0 - 3_600_000}ms AND time <= ${T0 + 86_400_000}ms`)
        .replaceAll('$__interval', '1m')
        .replaceAll('/^$site$/', '/^plant-a$/')
        .replaceAll('/^$asset$/', '/^P-100$/')
        .replaceAll('/^$metric$/', '/^flow_m3h$/');
    const empty: string[] = [];
    let n = 0;
    for (const d of grafanaDashboards()) {
      for (const query of influxQueries(d)) {
        const series = await influxQuery(url, db, fill(query));
        if (series.length === 0 || series.every((x) => x.values.length === 0)) empty.push(query);
        n++;
      }
    }
    expect(n).toBeGreaterThan(15);
    expect(empty).toEqual([]);
  });

  it('dead-letters a line the server refuses (field type conflict) and writes the rest', async () => {
    const { logger } = memoryLogger();
    const dead: DeadLetter[] = [];
    const db2 = `${db}_conflict`;
    const sink = await createInfluxSink(
      { url, database: db2, create_database: true },
      { logger, onDeadLetter: (d) => void dead.push(d) },
    );
    // Make "score" an integer field in this shard by a raw write, so the sink's float score conflicts.
    const pre = await fetch(`${url}/write?db=${db2}&precision=ms`, {
      method: 'POST',
      body: `scores,asset=X,detector=d,metric=m,site=s score=1i ${T0 - 1000}`,
    });
    expect(pre.status).toBe(204);
    const recs = readingRecords(20, T0 + 10_000_000, { metric: 'level_m' });
    recs.splice(7, 0, {
      type: 'score',
      score: { time: T0 - 999, site: 's', asset: 'X', detector: 'd', metric: 'm', score: 0.5 },
    });
    await sink.write(recs);
    await sink.close();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toMatch(/field type conflict/);
    expect(dead[0]?.raw).toContain('score=0.5');
    expect(await influxScalar(url, db2, `SELECT count("value") FROM "readings" WHERE "metric" = 'level_m'`)).toBe(20);
    await influxQuery(url, db2, `DROP DATABASE "${db2}"`);
  });

  it.runIf(managed)(
    'delivers every point when the server is stopped mid-write and restarted',
    async () => {
      const { logger, lines } = memoryLogger();
      const sink = await createInfluxSink(
        {
          url,
          database: db,
          create_database: true,
          batch_size: 500,
          max_retries: 200,
          backoff_initial_ms: 50,
          backoff_max_ms: 400,
          timeout_ms: 2000,
        },
        { logger },
      );
      const t0 = T0 + 50_000_000;
      const first = readingRecords(2000, t0, { metric: 'outage_m' });
      await sink.write(first);
      await influxService('stop');
      // Written while the server is down: the sink retries until it is back.
      const second = readingRecords(3000, t0 + 10_000, { metric: 'outage_m' }).map((r, i) =>
        r.type === 'event' ? { ...r, event: { ...r.event, id: `late-${i}` } } : r,
      );
      const pending = sink.write(second);
      await new Promise((r) => setTimeout(r, 1000));
      await influxService('start');
      await pending;
      await sink.close();
      expect(sink.stats().retries).toBeGreaterThan(0);
      expect(lines.some((l) => l.msg === 'influxdb write failed, retrying')).toBe(true);
      expect(await influxScalar(url, db, `SELECT count("value") FROM "readings" WHERE "metric" = 'outage_m'`)).toBe(
        5000,
      );
    },
    60_000,
  );
});
