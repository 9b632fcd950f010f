// Outage test against a real OpenSearch: a private node (own port and data dir, started by
// scripts/services/opensearch.sh with RETIMUAD_OPENSEARCH_* overrides, so the shared node is never
// stopped) is stopped for OUTAGE_SECS (60) while log events keep flowing into the sink, then
// started again; every document must then be searchable, once, with memory bounded by the outbox.
// Run with the other outage tests: npx vitest run --config packages/engine/src/sinks/vitest.outage.config.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../../core/src/schema/events.ts';
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
import { createElasticsearchSink } from './elasticsearch.ts';
import { esSearch } from './testing.ts';

const PORT = process.env['RETIMUAD_OUTAGE_OPENSEARCH_PORT'] ?? '19200';
const svc = privateService('opensearch', {
  RETIMUAD_OPENSEARCH_PORT: PORT,
  RETIMUAD_OPENSEARCH_DIR: join(servicesDir, 'opensearch-outage'),
  OPENSEARCH_HEAP: process.env['OPENSEARCH_HEAP'] ?? '512m',
});

afterAll(async () => {
  await svc.run('stop');
});

function logEvent(i: number): LogRecord {
  return {
    kind: 'log',
    id: `outage-log-${i}`,
    time: T0 + i,
    ingestTime: T0 + i,
    site: 'plant-a',
    asset: `PLC-${i % 5}`,
    source: 'outage-test',
    level: 'info',
    message: `heartbeat ${i}`,
    fields: {},
  };
}

async function count(url: string, index: string): Promise<number> {
  try {
    await fetch(`${url}/${index}/_refresh`, { method: 'POST' });
    const res = await fetch(`${url}/${index}/_count`);
    if (!res.ok) return 0;
    return ((await res.json()) as { count?: number }).count ?? 0;
  } catch {
    return 0;
  }
}

/** How many of `ids` are in the index, asked 1000 at a time with an ids query. */
async function foundIds(url: string, index: string, ids: readonly string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const values = ids.slice(i, i + 1000);
    const r = await esSearch(url, index, { size: values.length, _source: false, query: { ids: { values } } });
    n += new Set(r.hits.map((h) => h._id)).size;
  }
  return n;
}

describe('elasticsearch sink across a real OpenSearch outage', () => {
  it(`indexes every document written during a ${OUTAGE_SECS} s stop of OpenSearch, with bounded memory`, async () => {
    const url = await svc.run('start');
    const spill = await mkdtemp(join(tmpdir(), 'es-outage-'));
    const prefix = `outage${Date.now()}`;
    const index = `${prefix}-logs-*`;
    const BUFFER = 300;
    const PER_TICK = 8; // 80 documents/s
    const sink = await createElasticsearchSink(
      {
        url,
        index_prefix: prefix,
        replicas: 0,
        max_retries: 1,
        backoff_initial_ms: 100,
        backoff_max_ms: 500,
        timeout_ms: 5000,
        spill_dir: spill,
        buffer_max_events: BUFFER,
        retry_initial_backoff_ms: 200,
        retry_max_backoff_ms: 2000,
      },
      { logger: memoryLogger().logger },
    );
    const s0 = (): Partial<NonNullable<ReturnType<typeof sink.stats>['outbox']>> => sink.stats().outbox ?? {};
    let sent = 0;
    const stream = every(100, async () => {
      const batch = Array.from({ length: PER_TICK }, (_, k) => ({ type: 'event' as const, event: logEvent(sent + k) }));
      sent += batch.length;
      await sink.write(batch);
    });
    try {
      const { downAt, upAt, duringOutage } = await serverOutage(
        { stop: () => svc.run('stop'), start: () => svc.run('start') },
        () => sink.stats().outbox,
      );
      await stream.stop();
      // When the outbox had handed everything over, then when all of it was searchable.
      await waitFor(() => (s0().buffered ?? 1) + (s0().spilledEvents ?? 1) === 0, 120_000, 200);
      const handedOver = (Date.now() - upAt) / 1000;
      const drained = await waitFor(async () => (await count(url, index)) >= sent, 120_000, 1000);
      const catchUp = (Date.now() - upAt) / 1000;
      await sink.close();
      const total = await count(url, index);
      const expectedIds = Array.from({ length: sent }, (_, i) => `outage-log-${i}`);
      const found = await foundIds(url, index, expectedIds);
      const lost = expectedIds.length - found;
      const s = sink.stats().outbox;
      await recordOutage('opensearch', {
        server: `OpenSearch at ${url} (private node)`,
        outage_secs: Math.round((upAt - downAt) / 1000),
        events_sent: sent,
        delivered: total,
        lost,
        duplicates: total - found,
        ...outboxFigures(s, BUFFER),
        catch_up_secs: Math.round(catchUp * 10) / 10,
        notes: `outage_secs counts from the stop to the node answering again (its start time included); the outbox had handed every document over ${Math.round(handedOver * 10) / 10} s after that`,
      });
      expect(drained).toBe(true);
      expect(lost).toBe(0);
      expect(total).toBe(sent);
      expectOutboxDrained(duringOutage, s, BUFFER + PER_TICK);
    } finally {
      await stream.stop();
      await sink.close();
      await rm(spill, { recursive: true, force: true });
      await fetch(`${url}/${prefix}-*`, { method: 'DELETE' }).catch(() => undefined);
    }
  });
});
