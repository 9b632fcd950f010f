/**
 * Profiling harness for one in-process worker on the real broker: produces N synthetic readings
 * to a fresh prefix (or reuses PREFIX), then consumes them with a fresh group and prints events/s.
 * Run it under the profiler to see where a worker's time goes:
 *
 * node --cpu-prof --cpu-prof-dir=/tmp/prof bin/run-ts.mjs bench/kafka/profile-worker.ts 100000 [PREFIX]
 * Env: RETIMUAD_KAFKA_BROKERS (default 127.0.0.1:9092, scripts/services/kafka.sh start).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../packages/engine/src/config/load.ts';
import { connectKafka } from '../../packages/engine/src/kafka/connect.ts';
import { ensureTopics, partitionKey } from '../../packages/engine/src/kafka/topics.ts';
import { componentSchemas } from '../../packages/engine/src/runtime/registry.ts';
import { createKafkaSink } from '../../packages/engine/src/sinks/kafka/kafka.ts';
import { createDirStateStore } from '../../packages/engine/src/worker/state-store.ts';
import { Worker } from '../../packages/engine/src/worker/worker.ts';
const N = Number(process.argv[2] ?? 100000);
const prefix = process.argv[3] ?? `kprof-${Date.now()}`;
const brokers = (process.env['RETIMUAD_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const { kafka, layout } = await connectKafka({ brokers, topic_prefix: prefix }, 'kprof');
await ensureTopics(kafka, layout, { event_partitions: 6 });
const T0 = Date.UTC(2026, 0, 1);
if (process.argv[3] === undefined) {
  for (let i = 0; i < N; i += 5000) {
    const batch = [];
    for (let j = i; j < i + 5000 && j < N; j++)
      batch.push({
        key: partitionKey({ site: 'bench', asset: `A-${j % 200}` }, 'asset'),
        value: JSON.stringify({
          kind: 'reading',
          id: `r${j}`,
          time: T0 + Math.floor(j / 200) * 1000,
          site: 'bench',
          asset: `A-${j % 200}`,
          metric: 'flow_m3h',
          value: 50 + 5 * Math.sin(j * 0.37) + ((j * 7919) % 13) / 13,
          unit: 'm3/h',
          quality: 'good',
          source: 'bench',
        }),
      });
    await kafka.produce(layout.name('readings'), batch);
  }
  process.stdout.write(`produced ${N} readings to ${prefix}\n`);
}
const cfg = parseConfig(
  `version: 1
site: bench
data_dir: ${join(tmpdir(), 'retimuad-kprof')}
sources:
  - { id: bus, type: kafka, brokers: "${brokers.join(',')}", topics: [readings] }
detectors:
  - { id: z, type: rolling_zscore, select: { kind: reading, metric: flow_m3h }, params: { window_points: 300, min_points: 60, threshold_z: 8 } }
  - { id: high, type: threshold_duration, select: { kind: reading, metric: [flow_m3h, fault_level] }, params: { high: 1000, duration_secs: 0 } }
correlator: { window_secs: 60, resolve_after_secs: 60, group_by: asset }
sinks:
  - { id: out, type: console }
`,
  join(tmpdir(), 'retimuad-kprof.yaml'),
  componentSchemas(),
);
const group = `g-${Date.now()}`;
const worker = new Worker({
  kafka,
  topics: [layout.name('readings')],
  groupId: group,
  detectors: cfg.detectors,
  correlator: cfg.correlator,
  sinks: [
    await createKafkaSink(
      { brokers, topic_prefix: prefix, ensure_topics: false },
      { logger: pino({ level: 'silent' }) },
    ),
  ],
  store: createDirStateStore(join(tmpdir(), 'retimuad-kprof', group)),
  logger: pino({ level: 'silent' }),
  checkpoint_interval_ms: 1000,
});
const running = worker.run();
let first = 0;
while (worker.processed < N) {
  if (first === 0 && worker.processed > 0) first = performance.now();
  await new Promise((r) => setTimeout(r, 20));
}
const secs = (performance.now() - first) / 1000;
worker.stop();
await running;
await kafka.close();
process.stdout.write(`${JSON.stringify({ worker_events_per_s: Math.round(N / secs) })}\n`);
