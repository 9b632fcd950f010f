// The kafka source against the real broker (scripts/services/kafka.sh): records of the modality
// topics reach the pipeline as raw records with their topic/partition/offset; unreadable ones
// are rejected with the reason; offsets are committed so a restart resumes after them.
// Env: RETIMUAD_KAFKA_BROKERS (default: start the local broker with kafka.sh).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokers, type KafkaClient } from '../../kafka/client.ts';
import { connectKafka } from '../../kafka/connect.ts';
import { ensureTopics, type TopicLayout } from '../../kafka/topics.ts';
import { noBlobs, reading, silentLogger } from '../../runtime/testing.ts';
import type { ComponentContext, SourceOutput } from '../../runtime/types.ts';
import { createKafkaSource, type KafkaSourceParams } from './index.ts';

const kafkaSh = fileURLToPath(new URL('../../../../../scripts/services/kafka.sh', import.meta.url));
const run = `${Date.now()}-${process.pid}`;
const prefix = `itest-src-${run}`;
let brokers: string[] = [];
let kafka: KafkaClient;
let layout: TopicLayout;

beforeAll(async () => {
  const fromEnv = process.env['RETIMUAD_KAFKA_BROKERS'];
  if (fromEnv !== undefined && fromEnv !== '') brokers = parseBrokers(fromEnv, 'RETIMUAD_KAFKA_BROKERS');
  else {
    const { stdout } = await promisify(execFile)(kafkaSh, ['start'], { timeout: 240_000 });
    brokers = parseBrokers(stdout.trim().split('\n').at(-1) ?? '', `${kafkaSh} start output`);
  }
  ({ kafka, layout } = await connectKafka({ brokers, topic_prefix: prefix }, 'itest-src'));
  await ensureTopics(kafka, layout, { event_partitions: 2 });
}, 300_000);

afterAll(async () => {
  await kafka?.close();
});

/** Runs the source until `n` records came out, then aborts it. */
async function collect(n: number) {
  const got: Array<{ kind: 'raw' | 'reject'; where: string; detail: unknown }> = [];
  const abort = new AbortController();
  const out: SourceOutput = {
    emit: () => Promise.resolve(),
    label: () => Promise.resolve(),
    emitRaw: (raw, where) => {
      got.push({ kind: 'raw', where, detail: raw });
      if (got.length >= n) abort.abort();
      return Promise.resolve();
    },
    reject: (_raw, where, reason) => {
      got.push({ kind: 'reject', where, detail: reason });
      if (got.length >= n) abort.abort();
      return Promise.resolve();
    },
  };
  const ctx = {
    id: 'bus',
    logger: silentLogger,
    clock: { now: () => Date.now() },
    signal: abort.signal,
    dataDir: '/tmp',
    blobs: noBlobs,
  } as unknown as ComponentContext;
  const params: KafkaSourceParams = {
    brokers: brokers.join(','),
    topic_prefix: prefix,
    group_id: `g-${run}`,
    topics: ['readings', 'logs'],
    from: 'committed',
    commit_interval_ms: 1,
    checkpoint_interval_ms: 1000,
  };
  const timer = setTimeout(() => abort.abort(), 20_000);
  await createKafkaSource('bus', params).run(out, ctx);
  clearTimeout(timer);
  return got;
}

describe('kafka source against a real broker', () => {
  it('hands records to the pipeline, rejects unreadable ones, and resumes after its commits', async () => {
    await kafka.produce(layout.name('readings'), [
      { key: 'plant-a/P-101', value: JSON.stringify(reading(1, 5)) },
      { key: 'plant-a/P-101', value: '{broken' },
    ]);
    const first = await collect(2);
    expect(first.map((g) => g.kind).sort()).toEqual(['raw', 'reject']);
    expect(first.find((g) => g.kind === 'reject')?.detail).toMatch(/^not JSON/);
    expect(first.find((g) => g.kind === 'raw')?.where).toMatch(new RegExp(`^kafka ${prefix}\\.readings\\[\\d\\]@0$`));

    await kafka.produce(layout.name('readings'), [{ key: 'plant-a/P-101', value: JSON.stringify(reading(2, 6)) }]);
    const second = await collect(1);
    expect(second.map((g) => (g.detail as { id: string }).id)).toEqual(['r2']);
  });
});
