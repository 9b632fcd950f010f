// Outage test against a real InfluxDB 1.x: a private instance (own port and data dir, started by
// scripts/services/influxdb.sh with RETIMUAD_INFLUXDB_* overrides, so the shared one is never
// stopped) is stopped for OUTAGE_SECS (60) while readings keep flowing into the sink, then started
// again; every reading must then be in the database, once, with memory bounded by the outbox.
// Run with the other outage tests: npx vitest run --config packages/engine/src/sinks/vitest.outage.config.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  every,
  expectOutboxDrained,
  OUTAGE_SECS,
  outboxFigures,
  serverOutage,
  privateService,
  recordOutage,
  servicesDir,
  waitFor,
} from '../outage-testing.ts';
import { memoryLogger, T0 } from '../testing.ts';
import { createInfluxSink } from './influxdb.ts';
import { influxQuery, influxScalar, readingRecords } from './testing.ts';

const PORT = process.env['RETIMUAD_OUTAGE_INFLUXDB_PORT'] ?? '18086';
const svc = privateService('influxdb', {
  RETIMUAD_INFLUXDB_PORT: PORT,
  RETIMUAD_INFLUXDB_RPC_PORT: String(Number(PORT) + 2),
  RETIMUAD_INFLUXDB_DIR: join(servicesDir, 'influxdb-outage'),
});

afterAll(async () => {
  await svc.run('stop');
});

describe('influxdb sink across a real server outage', () => {
  it(`delivers every reading written during a ${OUTAGE_SECS} s stop of InfluxDB, with bounded memory`, async () => {
    const url = await svc.run('start');
    const spill = await mkdtemp(join(tmpdir(), 'influx-outage-'));
    const db = `outage_${Date.now()}`;
    const BUFFER = 500;
    const PER_TICK = 20; // 200 readings/s
    const all = readingRecords(40_000, T0, { assets: 20, metric: 'outage_probe' });
    const sink = await createInfluxSink(
      {
        url,
        database: db,
        create_database: true,
        batch_size: 1000,
        max_retries: 1,
        backoff_initial_ms: 100,
        backoff_max_ms: 500,
        timeout_ms: 3000,
        spill_dir: spill,
        buffer_max_events: BUFFER,
        retry_initial_backoff_ms: 200,
        retry_max_backoff_ms: 2000,
      },
      { logger: memoryLogger().logger },
    );
    let sent = 0;
    const stream = every(100, async () => {
      const batch = all.slice(sent, sent + PER_TICK);
      sent += batch.length;
      await sink.write(batch);
    });
    try {
      const { downAt, upAt, duringOutage } = await serverOutage(
        { stop: () => svc.run('stop'), start: () => svc.run('start') },
        () => sink.stats().outbox,
      );
      expect((upAt - downAt) / 1000).toBeGreaterThanOrEqual(OUTAGE_SECS);
      await stream.stop();
      const drained = await waitFor(async () => (await countIn(url, db)) >= sent, 120_000, 1000);
      const catchUp = (Date.now() - upAt) / 1000;
      await sink.close();
      const values = (await influxQuery(url, db, 'SELECT value FROM readings')).flatMap((s) =>
        s.values.map((v) => v[1]),
      );
      const expected = new Set(
        all.slice(0, sent).map((r) => (r.type === 'event' && r.event.kind === 'reading' ? r.event.value : NaN)),
      );
      const got = new Set(values);
      const lost = [...expected].filter((v) => !got.has(v)).length;
      const s = sink.stats().outbox;
      await recordOutage('influxdb', {
        server: `InfluxDB 1.x at ${url} (private instance)`,
        outage_secs: Math.round((upAt - downAt) / 1000),
        events_sent: sent,
        delivered: values.length,
        lost,
        duplicates: values.length - got.size,
        ...outboxFigures(s, BUFFER),
        catch_up_secs: Math.round(catchUp * 10) / 10,
      });
      expect(drained).toBe(true);
      expect(lost).toBe(0);
      expect(values.length).toBe(sent);
      expectOutboxDrained(duringOutage, s, BUFFER + PER_TICK);
    } finally {
      await stream.stop();
      await sink.close();
      await rm(spill, { recursive: true, force: true });
    }
  });
});

async function countIn(url: string, db: string): Promise<number> {
  try {
    return Number((await influxScalar(url, db, 'SELECT count(value) FROM readings')) ?? 0);
  } catch {
    return 0;
  }
}
