import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createParquetSink } from './parquet.ts';
import { sinkTypes } from '../../runtime/registry.ts';
import { openArchive } from '../../analytics/archive.ts';
import { analyze } from '../../analytics/analyze.ts';
import { openEmbeddedStore } from '../../storage/duckdb-store.ts';
import { numericDiffs, reading } from '../../analytics/testing.ts';
import type { Anomaly } from '../../../../core/src/schema/events.ts';
import type { SinkRecord } from '../../runtime/types.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.UTC(2024, 0, 1, 23, 0);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-parquet-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parquet archive sink', () => {
  it('writes readings, logs and anomalies partitioned by date and asset; analyses of the archive equal those of the store', async () => {
    const sink = await createParquetSink({ path: dir, flush_rows: 3000 }, { logger, id: 'archive' });
    const store = await openEmbeddedStore(':memory:', { retention_hours: 0 });
    try {
      const recs: SinkRecord[] = [];
      // Two hours across midnight, two assets (one with characters that need escaping in a path).
      for (let i = 0; i < 7200; i++) {
        recs.push(reading(T0 + i * 1000, 'P-101', 'flow', 40 + Math.sin(i / 100)));
        recs.push(reading(T0 + i * 1000, 'odd:asset/1', 'temp', 20 + (i % 7)));
      }
      recs.push({
        type: 'event',
        event: {
          kind: 'log',
          id: 'l1',
          time: T0,
          ingestTime: T0,
          site: 'plant-a',
          asset: 'PLC-1',
          source: 't',
          level: 'warn',
          message: "it's odd",
          fields: { 'user.name': 'x' },
        },
      });
      const anomaly: Anomaly = {
        id: 'a1',
        time: T0 + 5,
        site: 'plant-a',
        asset: 'P-101',
        detector: 'z',
        detectorType: 'rolling_zscore',
        modality: 'reading',
        metric: 'flow',
        score: 0.9,
        severity: 'warning',
        reason: 'high',
      };
      recs.push({ type: 'anomaly', anomaly });
      for (let i = 0; i < recs.length; i += 1000) {
        await sink.write(recs.slice(i, i + 1000));
        await store.write(recs.slice(i, i + 1000));
      }
      await sink.close();

      expect((await readdir(join(dir, 'readings'))).sort()).toEqual(['date=2024-01-01', 'date=2024-01-02']);
      const assets = await readdir(join(dir, 'readings', 'date=2024-01-02'));
      expect(assets).toContain('asset=P-101');
      expect(assets.length).toBe(2);
      expect(await readdir(join(dir, 'logs', 'date=2024-01-01'))).toEqual(['asset=PLC-1']);

      const archive = await openArchive(dir);
      try {
        const n = await archive.query('SELECT count(*) AS n, count(DISTINCT asset) AS a FROM readings');
        expect(Number(n[0]?.['n'])).toBe(14_400);
        const names = await archive.query('SELECT DISTINCT asset FROM readings ORDER BY asset');
        expect(names.map((r) => r['asset'])).toEqual(['P-101', 'odd:asset/1']);
        const logs = await archive.query(`SELECT message FROM read_parquet('${dir}/logs/*/*/*.parquet')`);
        expect(logs[0]?.['message']).toBe("it's odd");
        const an = await archive.query(`SELECT body FROM read_parquet('${dir}/anomalies/*/*/*.parquet')`);
        expect(JSON.parse(String(an[0]?.['body']))).toEqual(anomaly);

        const range = { from: T0, to: T0 + 7_200_000 };
        const a = await analyze(archive.query, range);
        const b = await analyze((q, v) => store.query(q, v), range);
        // Equal up to summation order (Parquet row groups are summed in another order than the store's).
        expect(numericDiffs(a.stats, b.stats)).toEqual([]);
        expect(a.histograms).toEqual(b.histograms);
        expect(numericDiffs(a.drifts, b.drifts)).toEqual([]);
        expect(a.clusterings.map((c) => c.k)).toEqual(b.clusterings.map((c) => c.k));
      } finally {
        archive.close();
      }
    } finally {
      await store.close();
    }
  });

  it('rejects bad options with the path of the problem, and writes after close fail with a code', async () => {
    await expect(createParquetSink({ path: dir, flush_rows: 0 }, { logger })).rejects.toMatchObject({
      code: 'E_SINK_PARAMS',
      message: expect.stringContaining('/flush_rows') as string,
    });
    const sink = await createParquetSink({ path: dir }, { logger });
    await sink.close();
    await expect(sink.write([reading(T0, 'A', 'm', 1)])).rejects.toMatchObject({ code: 'E_SINK_CLOSED' });
    await expect(openArchive(join(dir, 'nothing'))).rejects.toMatchObject({ code: 'E_ANALYZE_OPTIONS' });
  });

  it('is registered as sink type "parquet", with the path under the data directory', async () => {
    const t = sinkTypes['parquet'];
    expect(t).toBeDefined();
    const ac = new AbortController();
    const sink = await t!.create(
      'archive',
      { path: 'archive' },
      { logger, metrics: undefined as never, dataPath: (p) => join(dir, p), signal: ac.signal },
    );
    await sink.write([reading(T0, 'A', 'm', 1)]);
    await sink.close();
    expect(await readdir(join(dir, 'archive', 'readings'))).toEqual(['date=2024-01-01']);
  });
});
