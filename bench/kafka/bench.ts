/**
 * Kafka benchmark on the real broker (scripts/services/kafka.sh): prints figures and JSON.
 *  1. throughput of one worker, consume → decode → detect → produce anomalies/incidents, against
 *     a peer measured in the same run: the Processor alone over the same records in memory;
 *  2. ingest-to-incident latency at a steady event rate: background readings at --rate events/s
 *     plus one fault reading per 100 ms on a fresh asset; latency = incident read back from the
 *     incidents topic minus the fault's produce time. The worker runs as a `retimuad worker`
 *     child process, as deployed.
 *
 *  3. scaling: the same records through one, then two `retimuad worker` processes (--skip-scaling skips it).
 *
 * node bin/run-ts.mjs bench/kafka/bench.ts [--events 200000] [--rate 10000] [--secs 10] [--repeats 2] [--skip-scaling] [--json out.json]
 * (1. measures the worker after (batched + fast decode) and before (record by record + decodeEvent), alternating, --repeats times each.)
 * Env: RETIMUAD_KAFKA_BROKERS (default: start the local broker with kafka.sh).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import pino from 'pino';
import { parseConfig } from '../../packages/engine/src/config/load.ts';
import {
  parseBrokers,
  type KafkaClient,
  type KafkaRecordOut,
  type SubscribeOptions,
} from '../../packages/engine/src/kafka/client.ts';
import { connectKafka } from '../../packages/engine/src/kafka/connect.ts';
import { ensureTopics, partitionKey } from '../../packages/engine/src/kafka/topics.ts';
import { componentSchemas } from '../../packages/engine/src/runtime/registry.ts';
import { Processor } from '../../packages/engine/src/runtime/processor.ts';
import type { SinkRecord } from '../../packages/engine/src/runtime/types.ts';
import { createKafkaSink } from '../../packages/engine/src/sinks/kafka/kafka.ts';
import { decodeEvent } from '../../packages/core/src/schema/validate.ts';
import { createDirStateStore } from '../../packages/engine/src/worker/state-store.ts';
import { Worker } from '../../packages/engine/src/worker/worker.ts';
import { decodeReadingFast, NameCache } from '../../packages/engine/src/worker/fast-decode.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rate: { type: 'string', default: '10000' },
    secs: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '6' },
    json: { type: 'string' },
    'skip-scaling': { type: 'boolean', default: false },
    repeats: { type: 'string', default: '2' },
  },
});
const N = Number(args.events);
const RATE = Number(args.rate);
const SECS = Number(args.secs);
const PARTITIONS = Number(args.partitions);
const REPEATS = Math.max(1, Number(args.repeats));
const root = fileURLToPath(new URL('../../', import.meta.url));
const out = (l: string) => process.stdout.write(`${l}\n`);

async function brokersToUse(): Promise<string[]> {
  const env = process.env['RETIMUAD_KAFKA_BROKERS'];
  if (env !== undefined && env !== '') return parseBrokers(env, 'RETIMUAD_KAFKA_BROKERS');
  const { stdout } = await promisify(execFile)(join(root, 'scripts/services/kafka.sh'), ['start'], {
    timeout: 240_000,
  });
  return parseBrokers(stdout.trim().split('\n').at(-1) ?? '', 'kafka.sh start');
}

function configText(brokers: string[], prefix: string, group: string, dataDir: string, checkpointMs = 1000): string {
  return `version: 1
site: bench
data_dir: ${dataDir}
sources:
  - { id: bus, type: kafka, brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, group_id: ${group}, topics: [readings], checkpoint_interval_ms: ${checkpointMs} }
detectors:
  - { id: z, type: rolling_zscore, select: { kind: reading, metric: flow_m3h }, params: { window_points: 300, min_points: 60, threshold_z: 8 } }
  - { id: high, type: threshold_duration, select: { kind: reading, metric: [flow_m3h, fault_level] }, params: { high: 1000, duration_secs: 0 } }
correlator: { window_secs: 60, resolve_after_secs: 60, group_by: asset }
runtime: { batch_max: 5000 }
sinks:
  - { id: out, type: kafka, brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, event_partitions: ${PARTITIONS} }
`;
}

const T0 = Date.UTC(2026, 0, 1);
/** Synthetic readings: 200 assets, noisy flows, one per asset per simulated second. */
function reading(
  i: number,
  time: number,
  asset = `A-${i % 200}`,
  metric = 'flow_m3h',
  value = 50 + 5 * Math.sin(i * 0.37) + ((i * 7919) % 13) / 13,
) {
  return {
    kind: 'reading',
    id: `r${i}`,
    time,
    site: 'bench',
    asset,
    metric,
    value,
    unit: 'm3/h',
    quality: 'good',
    source: 'bench',
  };
}

/**
 * Events/s of `members` `retimuad worker` processes sharing one group: once all hold their
 * partitions, N readings are produced; the rate runs from the first checkpoint any of them
 * reports until the partition snapshots (state dir) cover all N records (records of that first
 * checkpoint are not counted). Production (~50k/s) overlaps consumption.
 */
async function groupRate(
  members: number,
  brokers: string[],
  dir: string,
  tag: string,
  values: readonly string[],
): Promise<number> {
  // A fresh topic, filled only once every member holds its share: no rebalance while measuring.
  const prefix = `bench-${tag}-${run}`;
  const { kafka, layout } = await connectKafka({ brokers, topic_prefix: prefix }, `bench-${tag}`);
  await ensureTopics(kafka, layout, { event_partitions: PARTITIONS });
  const cfgFile = join(dir, `${tag}.yaml`);
  const stateDir = join(dir, `${tag}-state`);
  await writeFile(
    cfgFile,
    configText(brokers, prefix, `${tag}-${run}`, join(dir, tag), 200).replace(
      'checkpoint_interval_ms: 200 }',
      `checkpoint_interval_ms: 200, state_dir: ${stateDir} }`,
    ),
  );
  let first = 0;
  let firstRecords = 0;
  const owned = new Map<number, { generation: number; n: number }>();
  const kids = Array.from({ length: members }, (_, k) => {
    const c = spawn(process.execPath, [join(root, 'bin/retimuad.mjs'), 'worker', '--config', cfgFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    c.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (line.includes('"assigned"')) {
          const a = JSON.parse(line) as { generation: number; partitions: string[] };
          owned.set(k, { generation: a.generation, n: a.partitions.length });
        }
        if (first === 0 && line.includes('"checkpoint"')) {
          first = performance.now();
          firstRecords = (JSON.parse(line) as { records: number }).records;
        }
      }
    });
    return c;
  });
  const settled = () => {
    const gens = new Set([...owned.values()].map((o) => o.generation));
    return owned.size === members && gens.size === 1 && [...owned.values()].every((o) => o.n > 0);
  };
  while (!settled()) await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < N; i += 5000) {
    await kafka.produce(
      layout.name('readings'),
      values.slice(i, i + 5000).map((v, j) => ({ key: `bench/A-${(i + j) % 200}`, value: v })),
    );
  }
  await kafka.close();
  const store = createDirStateStore(stateDir);
  const covered = async () => {
    let sum = 0;
    for (let p = 0; p < PARTITIONS; p++) sum += Number((await store.load(`${prefix}.readings`, p))?.next_offset ?? 0);
    return sum;
  };
  while ((await covered()) < N) await new Promise((r) => setTimeout(r, 50));
  const secs = (performance.now() - first) / 1000;
  for (const c of kids) c.kill('SIGTERM');
  return (N - firstRecords) / secs;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const brokers = await brokersToUse();
const dir = await mkdtemp(join(tmpdir(), 'retimuad-kbench-'));
const run = `${Date.now()}`;
const result: Record<string, unknown> = {
  brokers,
  events: N,
  rate: RATE,
  secs: SECS,
  partitions: PARTITIONS,
  load_avg: (await import('node:os')).loadavg(),
};
try {
  // ---- 1. throughput of one worker -------------------------------------------------------
  const prefix = `bench-${run}`;
  const { kafka, layout } = await connectKafka({ brokers, topic_prefix: prefix }, 'bench');
  await ensureTopics(kafka, layout, { event_partitions: PARTITIONS });
  const values: string[] = [];
  for (let i = 0; i < N; i++) values.push(JSON.stringify(reading(i, T0 + Math.floor(i / 200) * 1000)));
  let t = performance.now();
  for (let i = 0; i < N; i += 5000) {
    const batch: KafkaRecordOut[] = values
      .slice(i, i + 5000)
      .map((v, j) => ({ key: partitionKey({ site: 'bench', asset: `A-${(i + j) % 200}` }, 'asset'), value: v }));
    await kafka.produce(layout.name('readings'), batch);
  }
  const produceSecs = (performance.now() - t) / 1000;
  out(
    `produce: ${N} readings in ${produceSecs.toFixed(2)} s = ${Math.round(N / produceSecs)} events/s (acks=all, batches of 5000)`,
  );

  const config = parseConfig(
    configText(brokers, prefix, `bench-${run}`, dir),
    join(dir, 'bench.yaml'),
    componentSchemas(),
  );

  // Peer: the same records through the Processor alone (JSON.parse + decodeEvent + detectors).
  const proc = new Processor(config.detectors, config.correlator);
  const sink: SinkRecord[] = [];
  t = performance.now();
  for (const v of values) {
    // `now` stamps the ingest time, which the schema bounds: 0 would make every record a dead letter.
    const d = decodeEvent(JSON.parse(v), { now: T0, source: 'bench' });
    if (d.ok) proc.process(d.event, sink);
    if (sink.length > 10_000) sink.length = 0;
  }
  const peerRate = N / ((performance.now() - t) / 1000);
  // The same with the worker's fast path for plain readings (worker/fast-decode.ts).
  const procFast = new Processor(config.detectors, config.correlator);
  const names = new NameCache();
  t = performance.now();
  for (const v of values) {
    const raw: unknown = JSON.parse(v);
    const opts = { now: T0, source: 'bench' };
    const fast = decodeReadingFast(raw, opts, names);
    const d = fast !== undefined ? ({ ok: true, event: fast } as const) : decodeEvent(raw, opts);
    if (d.ok) procFast.process(d.event, sink);
    if (sink.length > 10_000) sink.length = 0;
  }
  const peerFastRate = N / ((performance.now() - t) / 1000);
  out(
    `peer (Processor alone, in memory, JSON.parse + decode + detect): decodeEvent ${Math.round(peerRate)} events/s, ` +
      `fast reading path ${Math.round(peerFastRate)} events/s (×${(peerFastRate / peerRate).toFixed(2)})`,
  );
  result['peer_fast_decode_events_per_s'] = Math.round(peerFastRate);

  /**
   * One in-process worker over the N records with a fresh group. `before` hides the
   * subscription's batches() so the worker iterates record by record (one promise chain per
   * record) and turns the fast reading decode off: the path before both optimisations, measured
   * as a peer in the same run.
   */
  const workerRate = async (tag: string, before: boolean): Promise<number> => {
    const perRecord = before;
    const client: KafkaClient = perRecord
      ? ({
          subscribe: async (o: SubscribeOptions) => {
            const sub = await kafka.subscribe(o);
            return { [Symbol.asyncIterator]: () => sub[Symbol.asyncIterator](), close: () => sub.close() };
          },
        } as unknown as KafkaClient)
      : kafka;
    const worker = new Worker({
      kafka: client,
      topics: [layout.name('readings')],
      groupId: `bench-${run}-${tag}`,
      detectors: config.detectors,
      correlator: config.correlator,
      sinks: [
        await createKafkaSink(
          { brokers, topic_prefix: prefix, ensure_topics: false },
          { logger: pino({ level: 'silent' }) },
        ),
      ],
      store: createDirStateStore(join(dir, `state-${tag}`)),
      logger: pino({ level: 'silent' }),
      checkpoint_interval_ms: 1000,
      fast_decode: !before,
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
    return N / secs;
  };
  // Alternate the two paths so that load changes on the shared machine hit both alike.
  const rates = { after: [] as number[], before: [] as number[] };
  for (let rep = 0; rep < REPEATS; rep++) {
    rates.before.push(await workerRate(`r${rep}`, true));
    rates.after.push(await workerRate(`b${rep}`, false));
  }
  const best = (xs: number[]) => Math.max(...xs);
  const workerRate1 = best(rates.after);
  out(
    `one worker (consume → detect → produce, checkpoints every 1 s), best of ${REPEATS}: ` +
      `after (batched consumption + fast reading decode) ${Math.round(workerRate1)} events/s, ` +
      `before (record by record + decodeEvent) ${Math.round(best(rates.before))} events/s ` +
      `(×${(workerRate1 / best(rates.before)).toFixed(2)}; runs before ${rates.before.map(Math.round).join('/')}, after ${rates.after.map(Math.round).join('/')}); ` +
      `after = ${((workerRate1 / peerFastRate) * 100).toFixed(0)}% of the fast-path peer`,
  );
  result['produce_events_per_s'] = Math.round(N / produceSecs);
  result['peer_processor_events_per_s'] = Math.round(peerRate);
  result['worker_events_per_s'] = Math.round(workerRate1);
  result['worker_before_events_per_s'] = Math.round(best(rates.before));
  result['worker_runs'] = { after: rates.after.map(Math.round), before: rates.before.map(Math.round) };
  await kafka.close();

  if (args['skip-scaling'] !== true) {
    // Scaling: the same records through one, then two worker processes (each its own group).
    const one = await groupRate(1, brokers, dir, 'one', values);
    const two = await groupRate(2, brokers, dir, 'two', values);
    out(
      `worker processes: 1 → ${Math.round(one)} events/s, 2 → ${Math.round(two)} events/s (×${(two / one).toFixed(2)}) on ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`,
    );
    Object.assign(result, { one_process_events_per_s: Math.round(one), two_processes_events_per_s: Math.round(two) });
  }

  // ---- 2. ingest-to-incident latency at a steady rate -------------------------------------
  const lprefix = `bench-lat-${run}`;
  const lat = await connectKafka({ brokers, topic_prefix: lprefix }, 'bench-lat');
  await ensureTopics(lat.kafka, lat.layout, { event_partitions: PARTITIONS });
  const cfgFile = join(dir, 'lat.yaml');
  await writeFile(cfgFile, configText(brokers, lprefix, `lat-${run}`, join(dir, 'lat')));
  const child = spawn(process.execPath, [join(root, 'bin/retimuad.mjs'), 'worker', '--config', cfgFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('"assigned"') && d.toString().includes('readings[')) resolve();
    });
  });
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const incidents = await lat.kafka.subscribe({
    topics: [lat.layout.name('incidents')],
    groupId: `lat-reader-${run}`,
    from: 'latest',
    max_wait_ms: 10,
  });
  const reading$ = (async () => {
    for await (const rec of incidents) {
      const inc = JSON.parse(rec.value.toString()) as { assets: string[]; revision: number };
      const asset = inc.assets[0] ?? '';
      const s = sent.get(asset);
      if (s !== undefined && inc.revision === 1) latencies.push(Date.now() - s);
    }
  })();
  await new Promise((r) => setTimeout(r, 1500)); // let the reader join before faults are sent
  const tick = 10;
  const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
  let i = 0;
  let faults = 0;
  const start = Date.now();
  let late = 0;
  for (let k = 0; Date.now() - start < SECS * 1000; k++) {
    const due = start + k * tick;
    const now = Date.now();
    if (due > now) await new Promise((r) => setTimeout(r, due - now));
    else if (now - due > 100) late++;
    const recs: KafkaRecordOut[] = [];
    for (let j = 0; j < perTick; j++, i++) {
      const e = reading(i, Date.now());
      recs.push({ key: `bench/${e.asset}`, value: JSON.stringify(e) });
    }
    if (k % 10 === 0) {
      const asset = `F-${faults++}`;
      const e = reading(i++, Date.now(), asset, 'fault_level', 5000);
      sent.set(asset, Date.now());
      recs.push({ key: `bench/${asset}`, value: JSON.stringify(e) });
    }
    void lat.kafka.produce(lat.layout.name('readings'), recs);
  }
  const achieved = i / ((Date.now() - start) / 1000);
  await new Promise((r) => setTimeout(r, 3000));
  await incidents.close();
  await reading$.catch(() => undefined);
  // Wait for its final checkpoint before the state directory is removed.
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await lat.kafka.close();
  latencies.sort((a, b) => a - b);
  out(
    `latency at ${Math.round(achieved)} events/s offered (target ${RATE}) for ${SECS} s: ${latencies.length}/${faults} fault incidents seen, ` +
      `p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms, max ${latencies.at(-1) ?? NaN} ms${late > 0 ? ` (producer fell behind ${late} times)` : ''}`,
  );
  Object.assign(result, {
    latency_offered_events_per_s: Math.round(achieved),
    latency_faults: faults,
    latency_seen: latencies.length,
    latency_p50_ms: pct(latencies, 50),
    latency_p99_ms: pct(latencies, 99),
    latency_max_ms: latencies.at(-1) ?? null,
  });
  out(JSON.stringify(result));
  if (args.json !== undefined) await writeFile(args.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
