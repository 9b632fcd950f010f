// `retimuad api` on the real broker (scripts/services/kafka.sh): a worker runs over simulated
// plant data and writes anomalies and incidents to Kafka; `retimuad api` reads them with its own
// group into its own store; GET /api/incidents must then show exactly the incidents of the
// incidents topic (latest revision of each), and an operator's acknowledge must be recorded.
// Env: RETIMUAD_KAFKA_BROKERS (default: start the local broker with kafka.sh).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../../core/src/schema/events.ts';
import { parseBrokers, type KafkaClient } from '../kafka/client.ts';
import { connectKafka } from '../kafka/connect.ts';
import { simulateToKafka } from '../kafka/simulate.ts';
import { ensureTopics, type TopicLayout } from '../kafka/topics.ts';
import { startWorker } from '../worker/command.ts';
import { startStackApi, type StackApi } from './stack.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const kafkaSh = join(root, 'scripts/services/kafka.sh');
const run = `${Date.now()}-${process.pid}`;
const prefix = `itest-api-${run}`;
const KEY = 'rk_itest_operator_key_0123456789abcdef';
let brokers: string[] = [];
let dir = '';
let kafka: KafkaClient;
let layout: TopicLayout;
let api: StackApi | undefined;

const silent = pino({ level: 'silent' });

async function until(what: string, ms: number, test: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The latest revision of every incident in the topic, read with a fresh group until idle. */
async function incidentsInKafka(idleMs = 2000): Promise<Map<string, Incident>> {
  const sub = await kafka.subscribe({
    topics: [layout.name('incidents')],
    groupId: `reader-${run}`,
    from: 'earliest',
    max_wait_ms: 100,
  });
  const out = new Map<string, Incident>();
  const it = sub[Symbol.asyncIterator]();
  for (;;) {
    const timer = new Promise<'idle'>((r) => setTimeout(() => r('idle'), idleMs));
    const got = await Promise.race([it.next(), timer]);
    if (got === 'idle' || got.done === true) break;
    const inc = JSON.parse(got.value.value.toString()) as Incident;
    const prev = out.get(inc.id);
    if (prev === undefined || inc.revision > prev.revision) out.set(inc.id, inc);
  }
  await sub.close();
  return out;
}

beforeAll(async () => {
  const fromEnv = process.env['RETIMUAD_KAFKA_BROKERS'];
  if (fromEnv !== undefined && fromEnv !== '') brokers = parseBrokers(fromEnv, 'RETIMUAD_KAFKA_BROKERS');
  else {
    const { stdout } = await promisify(execFile)(kafkaSh, ['start'], { timeout: 240_000 });
    brokers = parseBrokers(stdout.trim().split('\n').at(-1) ?? '', `${kafkaSh} start output`);
  }
  dir = await mkdtemp(join(tmpdir(), 'retimuad-api-'));
  ({ kafka, layout } = await connectKafka({ brokers, topic_prefix: prefix }, 'itest-api'));
  await ensureTopics(kafka, layout, { event_partitions: 2 });
}, 300_000);

afterAll(async () => {
  await api?.stop();
  await kafka?.close();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('retimuad api over the Kafka stack', () => {
  it('shows the incidents that workers wrote to Kafka and records operator actions', async () => {
    // One prefix for input and output, as in deploy/retimuad/worker.yaml.
    const cfg = join(dir, 'stack.yaml');
    await writeFile(
      cfg,
      `version: 1
site: plant-a
data_dir: ${join(dir, 'data')}
sources:
  - { id: bus, type: kafka, brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, group_id: w-${run}, topics: [readings, logs], state_dir: ${join(dir, 'state')}, checkpoint_interval_ms: 250 }
detectors:
  - { id: tank-high, type: threshold_duration, select: { kind: reading, metric: level_mm }, params: { high: 950, duration_secs: 10, hysteresis: 20, severity: critical } }
  - { id: login-failures, type: event_burst, select: { kind: log, fields: { event.outcome: failure } }, key: [site, asset], params: { window_secs: 60, max_events: 5, severity: critical } }
correlator: { window_secs: 120, resolve_after_secs: 60, group_by: stage }
sinks:
  - { id: out, type: kafka, brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, event_partitions: 2 }
`,
    );
    const produced = await simulateToKafka({
      kafka,
      layout,
      seed: 5,
      durationSecs: 400,
      startTime: Date.UTC(2026, 0, 1),
      scenarios: ['tank_overflow', 'login_bruteforce'],
      keyBy: 'stage',
      blobsDir: join(dir, 'blobs'),
      chunk_secs: 50,
    });
    const total = (produced.counts['reading'] ?? 0) + (produced.counts['log'] ?? 0);
    const worker = await startWorker({ config: cfg, logger: silent });
    await until('the worker to process the stream', 60_000, () => worker.worker.processed >= total);
    await worker.stop();
    const expected = await incidentsInKafka();
    expect(expected.size).toBeGreaterThan(0);

    api = await startStackApi({
      config: cfg,
      port: 0,
      host: '127.0.0.1',
      groupId: `api-${run}`,
      topics: ['incidents', 'anomalies', 'deadletters', 'readings', 'logs'],
      auth: { apiKeys: [{ name: 'itest', role: 'operator', key: KEY }] },
      logger: silent,
      print: () => undefined,
    });
    const get = async (path: string): Promise<unknown> => {
      const r = await fetch(new URL(path, api!.url), { headers: { authorization: `Bearer ${KEY}` } });
      expect(r.status, path).toBe(200);
      return r.json();
    };
    const range = `from=${Date.UTC(2025, 11, 31)}&to=${Date.UTC(2026, 0, 2)}&limit=500`;
    let shown: Incident[] = [];
    await until('the api to show every incident at its latest revision', 30_000, async () => {
      shown = (await get(`/api/incidents?${range}`)) as Incident[];
      return shown.length === expected.size && shown.every((i) => expected.get(i.id)?.revision === i.revision);
    });
    for (const inc of shown) expect(inc).toEqual(expected.get(inc.id));
    // The signals behind them are there too (readings topic → the store's series).
    const assets = (await get('/api/assets')) as Array<{ asset: string }>;
    expect(assets.length).toBeGreaterThan(0);

    // Operator actions work against the api's own store.
    const target = shown[0]!;
    const ack = await fetch(new URL(`/api/incidents/${encodeURIComponent(target.id)}/actions`, api.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'acknowledge', comment: 'on it' }),
    });
    expect(ack.status).toBe(201);
    const actions = (await get(`/api/incidents/${encodeURIComponent(target.id)}/actions`)) as Array<{
      action: string;
    }>;
    expect(actions.map((a) => a.action)).toEqual(['acknowledge']);
    const c = api.counts();
    expect(c.refused).toBe(0);
    expect(c.stored.incidents ?? 0).toBeGreaterThanOrEqual(expected.size);
  }, 150_000);
});
