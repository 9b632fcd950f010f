/**
 * `retimuad spark-stream` end to end against the real Kafka (scripts/services/kafka.sh) and the
 * real InfluxDB (scripts/services/influxdb.sh), Spark in local mode (pyspark's spark-submit, the
 * Kafka jars fetched by scripts/services/spark-kafka.sh): readings with planted anomalies go to a
 * fresh readings topic, the job runs with the available-now trigger (everything there, then
 * stop), and the anomalies must arrive on the anomalies topic — the right series, window and
 * reason, nothing else — while the window aggregates are in InfluxDB.
 * Env: RETIMUAD_KAFKA_BROKERS, RETIMUAD_INFLUXDB_URL (default: start the local services).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Anomaly, type Reading } from '../../../core/src/schema/events.ts';
import { parseBrokers, type KafkaClient } from '../kafka/client.ts';
import { connectKafka } from '../kafka/connect.ts';
import { ensureTopics, type TopicLayout } from '../kafka/topics.ts';
import { influxQuery, influxUrl } from '../sinks/influxdb/testing.ts';
import { parseSparkStreamConfig } from './config.ts';
import { runSparkStream, type StreamBatch } from './stream.ts';

const kafkaSh = fileURLToPath(new URL('../../../../scripts/services/kafka.sh', import.meta.url));
const run = `${Date.now()}-${process.pid}`;
const prefix = `itest-sst-${run}`;
const db = `itest_sst_${run.replace(/-/g, '_')}`;
const T0 = Date.UTC(2024, 0, 1);
const SECONDS = 480; // eight 60 s windows; the watermark (10 s) lets the first seven finish
const W = 60_000;

let brokers: string[] = [];
let kafka: KafkaClient;
let layout: TopicLayout;
let influx: string;
let dir: string;
let batches: StreamBatch[] = [];
let anomalies: Array<Anomaly & { detail: Record<string, number> }> = [];
let wallS = 0;

function reading(s: number, asset: string, metric: string, value: number): Reading {
  const time = T0 + s * 1000;
  return {
    kind: 'reading',
    id: `${asset}-${metric}-${s}`,
    time,
    ingestTime: time,
    site: 'plant-a',
    stage: 'intake',
    asset,
    source: 'itest',
    metric,
    value,
    unit: 'u',
    quality: 'good',
  };
}

/** Known answers: each planted in one window. */
function readings(): Reading[] {
  const out: Reading[] = [];
  for (let s = 0; s < SECONDS; s++) {
    // A spike to 95 in window 2 (threshold on any value above 80).
    out.push(reading(s, 'P-1', 'flow', s >= 150 && s < 153 ? 95 : 40 + Math.sin(s / 7)));
    // Only 10 readings in window 5 (count below 30), erratic in window 6 (rule std > 3).
    if (!(s >= 300 && s < 360) || s % 6 === 0)
      out.push(
        reading(s, 'P-1', 'pressure', s >= 360 && s < 420 ? (s % 2 === 0 ? 100 : 112) : 120 + 0.3 * Math.cos(s)),
      );
    // Silent in windows 3 and 4 (no readings at all).
    if (!(s >= 180 && s < 300)) out.push(reading(s, 'T-1', 'level', 1 + 0.01 * Math.sin(s)));
  }
  return out;
}

async function readAll(topic: string, idleMs = 3000): Promise<string[]> {
  const sub = await kafka.subscribe({ topics: [topic], groupId: `reader-${run}`, from: 'earliest', max_wait_ms: 100 });
  const out: string[] = [];
  const seen = new Set<string>();
  const it = sub[Symbol.asyncIterator]();
  for (;;) {
    const timer = new Promise<'idle'>((r) => setTimeout(() => r('idle'), idleMs));
    const got = await Promise.race([it.next(), timer]);
    if (got === 'idle' || got.done === true) break;
    const at = `${got.value.partition}@${got.value.offset}`;
    if (seen.has(at)) continue;
    seen.add(at);
    out.push(got.value.value.toString());
  }
  await sub.close();
  return out;
}

beforeAll(async () => {
  const fromEnv = process.env['RETIMUAD_KAFKA_BROKERS'];
  const [k, i] = await Promise.all([
    fromEnv !== undefined && fromEnv !== ''
      ? Promise.resolve(fromEnv)
      : promisify(execFile)(kafkaSh, ['start'], { timeout: 240_000 }).then(
          (r) => r.stdout.trim().split('\n').at(-1) ?? '',
        ),
    influxUrl(),
  ]);
  brokers = parseBrokers(k, 'kafka.sh start output');
  influx = i;
  ({ kafka, layout } = await connectKafka({ brokers, topic_prefix: prefix }, 'itest-sst'));
  await ensureTopics(kafka, layout, { event_partitions: 2 });
  const recs = readings().map((r) => ({ key: `${r.site}/${r.asset}`, value: JSON.stringify(r) }));
  for (let j = 0; j < recs.length; j += 500) await kafka.produce(layout.name('readings'), recs.slice(j, j + 500));
  // Another modality on the readings topic must be ignored, not crash the job.
  await kafka.produce(layout.name('readings'), [
    { key: 'x', value: '{"kind":"log","message":"not a reading"}' },
    { key: 'x', value: '{broken' },
  ]);

  dir = await mkdtemp(join(tmpdir(), 'retimuad-sst-'));
  const cfg = parseSparkStreamConfig(
    `
kafka: { brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, topics: [readings], starting_offsets: earliest }
window: { size_secs: 60, watermark_secs: 10 }
trigger: { mode: available_now }
checkpoint_dir: ${dir}/checkpoint
influxdb: { url: "${influx}", database: ${db} }
spark: { master: "local[2]", shuffle_partitions: 2 }
checks:
  - { id: flow-high, type: threshold, select: { metric: [flow] }, on: value, above: 80, severity: critical }
  - { id: silent, type: count, min: 30 }
  - { id: erratic, type: rule, select: { metric: [pres*] }, expr: "std > 3 and count >= 30", reason: pressure unstable }
`,
    join(dir, 'stream.yaml'),
  );
  const t = performance.now();
  ({ batches } = await runSparkStream(cfg));
  wallS = (performance.now() - t) / 1000;
  anomalies = (await readAll(layout.name('anomalies'))).map((v) => JSON.parse(v) as (typeof anomalies)[number]);
}, 240_000);

afterAll(async () => {
  await kafka?.close();
  if (influx) await influxQuery(influx, db, `DROP DATABASE "${db}"`).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Spark Structured Streaming job against real Kafka and InfluxDB', () => {
  it('writes exactly the planted anomalies to the anomalies topic, in the Anomaly schema', () => {
    for (const a of anomalies) expect(Value.Errors(Anomaly, a).First()?.message, JSON.stringify(a)).toBeUndefined();
    const seen = anomalies
      .map(
        (a) => `${a.detectorType} ${a.detector} ${a.asset}/${a.metric ?? ''} @${(a.detail['window_start'] ?? 0) - T0}`,
      )
      .sort();
    expect(seen).toEqual(
      [
        `spark_threshold flow-high P-1/flow @${2 * W}`,
        `spark_count silent T-1/level @${3 * W}`,
        `spark_count silent T-1/level @${4 * W}`,
        `spark_count silent P-1/pressure @${5 * W}`,
        `spark_rule erratic P-1/pressure @${6 * W}`,
      ].sort(),
    );
    const spike = anomalies.find((a) => a.detector === 'flow-high');
    expect(spike).toMatchObject({
      site: 'plant-a',
      stage: 'intake',
      value: 95,
      severity: 'critical',
      modality: 'reading',
      time: T0 + 3 * W,
    });
    expect(spike?.reason).toBe('P-1/flow max 95 > 80 in the 60 s window from 2024-01-01T00:02:00Z');
    const silence = anomalies.filter((a) => a.asset === 'T-1');
    expect(silence.map((a) => [a.value, a.score, a.detail['count']])).toEqual([
      [0, 1, 0],
      [0, 1, 0],
    ]);
    expect(silence[0]?.reason).toMatch(/^T-1\/level: no readings, expected at least 30, in the 60 s window from /);
    const few = anomalies.find((a) => a.asset === 'P-1' && a.detector === 'silent');
    expect(few?.reason).toMatch(/^P-1\/pressure: 10 reading\(s\), expected at least 30/);
    expect(anomalies.find((a) => a.detector === 'erratic')?.reason).toMatch(
      /^pressure unstable \(count 60, mean 106, std 6\.0\d+/,
    );
    expect(new Set(anomalies.map((a) => a.id)).size).toBe(anomalies.length);
  });

  it('writes the finished windows to InfluxDB with count, mean, std, min, max', async () => {
    const rows = await influxQuery(
      influx,
      db,
      `SELECT "count", "mean", "std", "min", "max" FROM "window_aggregates" WHERE "asset" = 'P-1' AND "metric" = 'flow' GROUP BY "window_secs"`,
    );
    expect(rows[0]?.tags).toEqual({ window_secs: '60' });
    const values = rows[0]?.values ?? [];
    // Windows 0..6 finished (the watermark stops before the last one).
    expect(values.map((v) => v[0])).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => T0 + i * W));
    expect(values.map((v) => v[1])).toEqual([60, 60, 60, 60, 60, 60, 60]);
    let sum = 0;
    for (let s = 0; s < 60; s++) sum += 40 + Math.sin(s / 7);
    expect(values[0]?.[2]).toBeCloseTo(sum / 60, 9);
    expect(values[2]?.[5]).toBe(95);
    const all = await influxQuery(
      influx,
      db,
      `SELECT count("count") FROM "window_aggregates" GROUP BY "asset", "metric"`,
    );
    expect(
      Object.fromEntries(all.map((s) => [`${s.tags?.['asset']}/${s.tags?.['metric']}`, s.values[0]?.[1]])),
    ).toEqual({
      'P-1/flow': 7,
      'P-1/pressure': 7,
      'T-1/level': 5,
    });
  });

  it('reports its micro-batches', () => {
    expect(batches.reduce((n, b) => n + b.windows, 0)).toBe(19);
    expect(batches.reduce((n, b) => n + b.anomalies, 0)).toBe(anomalies.length);
    process.stderr.write(
      `spark-stream itest: ${wallS.toFixed(1)} s wall (JVM start included), batches ${JSON.stringify(batches)}\n`,
    );
  });
});
