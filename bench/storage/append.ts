/**
 * Benchmark: readings appended per second to the embedded store, in batches of 1000, through
 * `store.write` (DuckDB Appender). Peer measured in the same run: the same rows through a
 * prepared INSERT per row inside one transaction per batch, the obvious alternative.
 *
 * Usage: node bin/run-ts.mjs bench/storage/append.ts [batches=200]
 * Prints a human line per case and one JSON line at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Reading } from '../../packages/core/src/schema/events.ts';
import type { SinkRecord } from '../../packages/engine/src/runtime/types.ts';
import { openEmbeddedStore } from '../../packages/engine/src/storage/duckdb-store.ts';

const BATCH = 1000;
const batches = Number(process.argv[2] ?? 200);
const T0 = 1_700_000_000_000;

function batchOf(b: number): SinkRecord[] {
  const out: SinkRecord[] = [];
  for (let i = 0; i < BATCH; i++) {
    const n = b * BATCH + i;
    const r: Reading = {
      kind: 'reading',
      id: `r-${n}`,
      time: T0 + n * 100,
      ingestTime: T0 + n * 100 + 3,
      site: 'plant-a',
      asset: `P-${n % 20}`,
      stage: 'intake',
      source: 'bench',
      metric: n % 2 ? 'flow_m3h' : 'pressure_bar',
      value: Math.sin(n / 100) * 10 + 40,
      unit: n % 2 ? 'm3/h' : 'bar',
      quality: 'good',
    };
    out.push({ type: 'event', event: r });
  }
  return out;
}

const dir = await mkdtemp(join(tmpdir(), 'retimu-bench-'));
try {
  // Batches are built before timing so only the store is measured.
  const data = Array.from({ length: batches }, (_, b) => batchOf(b));

  const store = await openEmbeddedStore(join(dir, 'appender.duckdb'), { retention_hours: 0 });
  await store.write(data[0]!); // warm-up (first appender, table pages)
  let t = performance.now();
  for (let b = 1; b < batches; b++) await store.write(data[b]!);
  const appenderMs = performance.now() - t;
  const appenderRows = (batches - 1) * BATCH;
  await store.close();

  const peerBatches = Math.max(2, Math.min(20, Math.floor(batches / 10)));
  const inst = await DuckDBInstance.create(join(dir, 'insert.duckdb'));
  const conn = await inst.connect();
  await conn.run(`CREATE TABLE readings (time BIGINT, site VARCHAR, asset VARCHAR, stage VARCHAR, metric VARCHAR, value DOUBLE,
    unit VARCHAR, quality VARCHAR, id VARCHAR, source VARCHAR, ingest_time BIGINT)`);
  const stmt = await conn.prepare('INSERT INTO readings VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)');
  t = performance.now();
  for (let b = 0; b < peerBatches; b++) {
    await conn.run('BEGIN');
    for (const rec of data[b]!) {
      if (rec.type !== 'event' || rec.event.kind !== 'reading') continue;
      const e = rec.event;
      stmt.bind([BigInt(e.time), e.site, e.asset, e.stage ?? null, e.metric, e.value, e.unit, e.quality, e.id, e.source, BigInt(e.ingestTime)]);
      await stmt.run();
    }
    await conn.run('COMMIT');
  }
  const insertMs = performance.now() - t;
  const insertRows = peerBatches * BATCH;
  stmt.destroySync();
  conn.closeSync();
  inst.closeSync();

  const appenderRate = appenderRows / (appenderMs / 1000);
  const insertRate = insertRows / (insertMs / 1000);
  console.log(`store.write (Appender):      ${appenderRows} rows in ${appenderMs.toFixed(0)} ms = ${Math.round(appenderRate)} rows/s`);
  console.log(`prepared INSERT per row (peer): ${insertRows} rows in ${insertMs.toFixed(0)} ms = ${Math.round(insertRate)} rows/s`);
  console.log(`ratio: ${(appenderRate / insertRate).toFixed(1)}x`);
  console.log(
    JSON.stringify({
      bench: 'storage/append',
      batch: BATCH,
      appender: { rows: appenderRows, ms: Math.round(appenderMs), rowsPerSec: Math.round(appenderRate) },
      preparedInsert: { rows: insertRows, ms: Math.round(insertMs), rowsPerSec: Math.round(insertRate) },
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
