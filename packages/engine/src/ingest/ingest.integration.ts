// `retimuad ingest` against the real broker (scripts/services/kafka.sh) and a real MQTT broker
// (aedes, in process): records posted over HTTP or published over MQTT land in their modality
// topic keyed by asset; rejected ones land in the dead-letter topic with their reason.
// Env: RETIMUAD_KAFKA_BROKERS (default: start the local broker with kafka.sh).
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokers, type KafkaClient } from '../kafka/client.ts';
import { connectKafka } from '../kafka/connect.ts';
import { parseIngestConfig, startIngest, type RunningIngest } from './command.ts';

const kafkaSh = fileURLToPath(new URL('../../../../scripts/services/kafka.sh', import.meta.url));
const run = `${Date.now()}-${process.pid}`;
const prefix = `itest-ingest-${run}`;
const T = Date.UTC(2026, 0, 1);
let kafka: KafkaClient;
let brokers: string[] = [];
let ingest: RunningIngest;
let broker: Aedes;
let mqttServer: ReturnType<typeof createServer>;
let mqttUrl = '';
const INGEST_KEY = `rk_itest_${run}`;
const MQTT_USERS = new Map([
  ['retimuad-ingest', 'ingest-pw'],
  ['device-7', 'device-pw'],
]);
const withKey = { 'content-type': 'application/x-ndjson', authorization: `Bearer ${INGEST_KEY}` };

const reading = (id: string, asset: string, value: unknown) =>
  JSON.stringify({
    kind: 'reading',
    id,
    time: T,
    site: 'plant-a',
    asset,
    metric: 'flow_m3h',
    value,
    unit: 'm3/h',
    quality: 'good',
  });

async function readN(
  topic: string,
  n: number,
  timeoutMs = 20_000,
): Promise<Array<{ key: string; value: Record<string, unknown> }>> {
  const sub = await kafka.subscribe({
    topics: [topic],
    groupId: `reader-${run}-${topic}`,
    from: 'earliest',
    max_wait_ms: 100,
  });
  const out: Array<{ key: string; value: Record<string, unknown> }> = [];
  const it = sub[Symbol.asyncIterator]();
  const seen = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline) {
    const got = await Promise.race([it.next(), new Promise<'wait'>((r) => setTimeout(() => r('wait'), 500))]);
    if (got === 'wait') continue;
    if (got.done === true) break;
    // At-least-once: a rebalance of the fresh group can replay a partition; keep each offset once.
    const at = `${got.value.partition}@${got.value.offset}`;
    if (seen.has(at)) continue;
    seen.add(at);
    out.push({
      key: got.value.key?.toString() ?? '',
      value: JSON.parse(got.value.value.toString()) as Record<string, unknown>,
    });
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
  // The broker checks credentials (as a plant's Mosquitto would): ingest and devices sign in.
  broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) =>
      done(null, MQTT_USERS.get(username ?? '') === password?.toString()),
  });
  mqttServer = createServer(broker.handle);
  await new Promise<void>((r) => mqttServer.listen(0, '127.0.0.1', r));
  mqttUrl = `mqtt://127.0.0.1:${(mqttServer.address() as AddressInfo).port}`;
  const cfg = parseIngestConfig(
    `site: plant-a
kafka: { brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, event_partitions: 2 }
http: { port: 0, max_body_bytes: 4096 }
mqtt: { url: "${mqttUrl}", topics: ["plant/+/events"], qos: 1, username: retimuad-ingest }
`,
    'itest-ingest.yaml',
  );
  ingest = await startIngest(cfg, {
    logger: pino({ level: 'silent' }),
    env: { RETIMUAD_INGEST_API_KEY: INGEST_KEY, RETIMUAD_MQTT_PASSWORD: 'ingest-pw' },
  });
  ({ kafka } = await connectKafka({ brokers, topic_prefix: prefix }, 'itest-ingest-reader'));
}, 300_000);

afterAll(async () => {
  await ingest?.close();
  await kafka?.close();
  await new Promise<void>((r) => (mqttServer ? mqttServer.close(() => r()) : r()));
  await new Promise<void>((r) => (broker ? broker.close(() => r()) : r()));
});

describe('retimuad ingest against real Kafka and MQTT brokers', () => {
  it('HTTP: valid records reach the readings topic keyed by site/asset, rejected ones the dead letters', async () => {
    const body = [reading('h1', 'P-1', 1), reading('h2', 'P-2', 'abc'), reading('h3', 'P-3', 3)].join('\n');
    const anonymous = await fetch(`${ingest.url!}/ingest`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(anonymous.status).toBe(401);
    const res = await fetch(`${ingest.url!}/ingest`, { method: 'POST', body, headers: withKey });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { accepted: number; rejected: number }).rejected).toBe(1);
    const tooBig = await fetch(`${ingest.url!}/ingest`, { method: 'POST', body: 'x'.repeat(5000), headers: withKey });
    expect(tooBig.status).toBe(413);

    const readings = await readN(`${prefix}.readings`, 2);
    expect(readings.map((r) => [r.key, r.value['id'], r.value['source']]).sort()).toEqual([
      ['plant-a/P-1', 'h1', 'http'],
      ['plant-a/P-3', 'h3', 'http'],
    ]);
    const dead = await readN(`${prefix}.deadletters`, 1);
    expect(dead[0]?.value['reason']).toMatch(/^\/value: expected a finite number/);
    expect(dead[0]?.value['where']).toBe('http POST /ingest record 1 (line 2)');
  });

  it('MQTT: a published batch is stored before it is acknowledged', async () => {
    await expect(
      startIngest(
        parseIngestConfig(
          `kafka: { brokers: "${brokers.join(',')}" }
http: { enabled: false }
auth: { required: false }
mqtt: { url: "${mqttUrl}", topics: ["x"], username: retimuad-ingest }
`,
          'bad-pw.yaml',
        ),
        { logger: pino({ level: 'silent' }), env: { RETIMUAD_MQTT_PASSWORD: 'wrong' } },
      ),
    ).rejects.toMatchObject({
      code: 'E_INGEST_MQTT',
    });
    const client = await mqtt.connectAsync(mqttUrl, { username: 'device-7', password: 'device-pw' });
    await client.publishAsync('plant/a/events', `${reading('m1', 'P-7', 7)}\n{"kind":"log"}`, { qos: 1 });
    await client.endAsync();
    const all = await readN(`${prefix}.readings`, 3);
    const m1 = all.find((r) => r.value['id'] === 'm1');
    expect(m1?.key).toBe('plant-a/P-7');
    expect(m1?.value['source']).toBe('mqtt');
    const dead = await readN(`${prefix}.deadletters`, 2);
    const fromMqtt = dead.find((d) => String(d.value['where']).startsWith('mqtt plant/a/events'));
    expect(fromMqtt?.value['component']).toBe('ingest-mqtt');
  });
});
