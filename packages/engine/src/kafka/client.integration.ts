// Integration test of KafkaClient against a real broker (scripts/services/kafka.sh), part of
// `npm test`; alone: npx vitest run --config packages/engine/src/kafka/vitest.integration.config.ts
// Env: RETIMUAD_KAFKA_BROKERS (default: start the local broker with kafka.sh and use its
// address), RETIMUAD_KAFKA_CLIENT_DIR (a directory whose node_modules has @platformatic/kafka,
// default: the repository).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient, parseBrokers } from './client.ts';
import type { KafkaRecordIn, KafkaSubscription } from './client.ts';
import { loadKafkaDriver } from './driver.ts';
import type { KafkaDriver } from './driver.ts';
import { KafkaError } from './errors.ts';

const kafkaSh = fileURLToPath(new URL('../../../../scripts/services/kafka.sh', import.meta.url));
const run = `${Date.now()}-${process.pid}`;
let brokers: string[] = [];
let driver: KafkaDriver;
let kafka: KafkaClient;

/**
 * Read until `n` distinct (partition, offset) pairs were seen. Kafka delivery to a group is
 * at-least-once: a rebalance right after joining (common for a new group) replays from the last
 * committed offset, so the same record can arrive twice; callers dedupe, and so does this helper.
 */
async function take(sub: KafkaSubscription, n: number): Promise<{ unique: KafkaRecordIn[]; all: KafkaRecordIn[] }> {
  const unique = new Map<string, KafkaRecordIn>();
  const all: KafkaRecordIn[] = [];
  if (n === 0) return { unique: [], all };
  for await (const rec of sub) {
    all.push(rec);
    const id = `${rec.partition}@${rec.offset}`;
    const seen = unique.get(id);
    // A replay must be the very same record, never a different value at the same offset.
    if (seen !== undefined) expect(rec.value.equals(seen.value)).toBe(true);
    else unique.set(id, rec);
    if (unique.size >= n) break;
  }
  return { unique: [...unique.values()], all };
}

beforeAll(async () => {
  const fromEnv = process.env['RETIMUAD_KAFKA_BROKERS'];
  if (fromEnv !== undefined && fromEnv !== '') {
    brokers = parseBrokers(fromEnv, 'RETIMUAD_KAFKA_BROKERS');
  } else {
    const { stdout } = await promisify(execFile)(kafkaSh, ['start'], { timeout: 240_000 });
    brokers = parseBrokers(stdout.trim().split('\n').at(-1) ?? '', `${kafkaSh} start output`);
  }
  const dir = process.env['RETIMUAD_KAFKA_CLIENT_DIR'];
  driver = await loadKafkaDriver(dir === undefined || dir === '' ? {} : { resolveFrom: dir });
  kafka = new KafkaClient({ brokers, clientId: 'retimuad-itest', driver });
}, 300_000);

afterAll(async () => {
  await kafka?.close();
});

describe('KafkaClient against a real broker', () => {
  it('creates a topic, then reports it as existing', async () => {
    const topic = `itest-topic-${run}`;
    expect(await kafka.ensureTopic(topic, 2)).toBe('created');
    expect(await kafka.ensureTopic(topic, 2)).toBe('exists');
  });

  it('delivers every record once to a group and resumes after manual commits', async () => {
    const topic = `itest-readings-${run}`;
    const groupId = `itest-group-${run}`;
    await kafka.ensureTopic(topic, 3);
    const n = 300;
    const sent = Array.from({ length: n }, (_, i) => ({
      key: `sensor-${i % 50}`,
      value: JSON.stringify({ i, phase: 'before' }),
      headers: { i: String(i) },
    }));
    await kafka.produce(topic, sent);

    const first = await kafka.subscribe({ topics: [topic], groupId, from: 'committed', max_wait_ms: 100 });
    const { unique: got, all } = await take(first, n);
    // At most one replay of the batch (one rebalance), never an endless loop of re-deliveries.
    expect(all.length).toBeLessThanOrEqual(2 * n);
    // Commit the last record of each partition: Kafka offsets are per partition.
    const lastPerPartition = new Map<number, KafkaRecordIn>();
    for (const r of got) {
      const prev = lastPerPartition.get(r.partition);
      if (prev === undefined || r.offset > prev.offset) lastPerPartition.set(r.partition, r);
    }
    for (const r of lastPerPartition.values()) await r.commit();
    await first.close();

    const values = got.map((r) => JSON.parse(r.value.toString()) as { i: number });
    expect(new Set(values.map((v) => v.i)).size).toBe(n);
    expect(new Set(got.map((r) => r.partition)).size).toBe(3);
    // 50 keys hash onto all 3 partitions; same key, same partition keeps per-sensor order.
    const partOfKey = new Map<string, number>();
    for (const r of got) {
      const key = r.key?.toString() ?? '';
      expect(partOfKey.get(key) ?? r.partition).toBe(r.partition);
      partOfKey.set(key, r.partition);
      expect(r.headers['i']).toBe(String((JSON.parse(r.value.toString()) as { i: number }).i));
    }

    const later = Array.from({ length: 5 }, (_, i) => ({
      key: `sensor-${i}`,
      value: JSON.stringify({ i: n + i, phase: 'after' }),
    }));
    await kafka.produce(topic, later);
    const second = await kafka.subscribe({ topics: [topic], groupId, from: 'committed', max_wait_ms: 100 });
    const { unique: resumed } = await take(second, 5);
    await second.close();
    expect(resumed.map((r) => (JSON.parse(r.value.toString()) as { phase: string }).phase)).toEqual(
      Array(5).fill('after'),
    );
  });

  it('fails with E_KAFKA_PRODUCE, naming the brokers, when none answers', async () => {
    const dead = new KafkaClient({
      brokers: ['127.0.0.1:1'],
      clientId: 'retimuad-itest-dead',
      driver,
      connect_timeout_ms: 300,
    });
    const err = await dead.produce(`itest-dead-${run}`, [{ value: 'x' }]).catch((e: unknown) => e);
    await dead.close();
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).code).toBe('E_KAFKA_PRODUCE');
    expect((err as KafkaError).message).toContain('127.0.0.1:1');
  });
});
