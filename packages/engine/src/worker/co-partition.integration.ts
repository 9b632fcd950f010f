// Co-partitioning on the real broker (scripts/services/kafka.sh): two workers of one group each
// own partition p of the readings topic *and* partition p of the logs topic, so every modality
// of an asset reaches the same worker. The driver's own round-robin assignment, shown beside it
// with the same topics and two members, splits them. Topic creation refuses unequal counts.
// Env: RETIMUAD_KAFKA_BROKERS (default: start the local broker with kafka.sh).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokers, type KafkaAssignment, type KafkaClient } from '../kafka/client.ts';
import { connectKafka } from '../kafka/connect.ts';
import { ensureTopics, topicLayout, type TopicLayout } from '../kafka/topics.ts';
import { startWorker } from './command.ts';
import type { WorkerStatus } from './worker.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const kafkaSh = join(root, 'scripts/services/kafka.sh');
const run = `${Date.now()}-${process.pid}`;
const prefix = `itest-cp-${run}`;
let brokers: string[] = [];
let dir = '';
let kafka: KafkaClient;
let layout: TopicLayout;
const stops: Array<() => Promise<void>> = [];

async function until(what: string, ms: number, test: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Partition numbers per topic role of one member's assignment list ("topic[p]"). */
function byRole(partitions: readonly string[]): { readings: number[]; logs: number[] } {
  const of = (role: string) =>
    partitions
      .filter((p) => p.startsWith(`${layout.name(role as 'readings')}[`))
      .map((p) => Number(/\[(\d+)\]$/.exec(p)?.[1]))
      .sort((a, b) => a - b);
  return { readings: of('readings'), logs: of('logs') };
}

beforeAll(async () => {
  const fromEnv = process.env['RETIMUAD_KAFKA_BROKERS'];
  if (fromEnv !== undefined && fromEnv !== '') brokers = parseBrokers(fromEnv, 'RETIMUAD_KAFKA_BROKERS');
  else {
    const { stdout } = await promisify(execFile)(kafkaSh, ['start'], { timeout: 240_000 });
    brokers = parseBrokers(stdout.trim().split('\n').at(-1) ?? '', `${kafkaSh} start output`);
  }
  dir = await mkdtemp(join(tmpdir(), 'retimuad-copart-'));
  ({ kafka, layout } = await connectKafka({ brokers, topic_prefix: prefix }, 'itest-copart'));
  // 3 partitions and 2 members: round robin over 6 topic-partitions cannot keep p together.
  await ensureTopics(kafka, layout, { event_partitions: 3 });
}, 300_000);

afterAll(async () => {
  for (const s of stops) await s().catch(() => undefined);
  await kafka?.close();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('co-partitioned consumer groups', () => {
  it('two workers each own the same partition numbers of readings and logs', async () => {
    await writeFile(
      join(dir, 'w.yaml'),
      `version: 1
site: plant-a
data_dir: ${join(dir, 'data')}
sources:
  - { id: bus, type: kafka, brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, group_id: cp-${run}, topics: [readings, logs], state_dir: ${join(dir, 'state')} }
detectors:
  - { id: tank-high, type: threshold_duration, select: { kind: reading, metric: level_mm }, params: { high: 950, duration_secs: 10 } }
sinks:
  - { id: out, type: kafka, brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, event_partitions: 3 }
`,
    );
    const status: WorkerStatus[][] = [[], []];
    for (const i of [0, 1]) {
      const w = await startWorker({
        config: join(dir, 'w.yaml'),
        logger: pino({ level: 'silent' }),
        onStatus: (s) => status[i]!.push(s),
      });
      stops.push(() => w.stop());
    }
    const last = (i: number) => status[i]!.filter((s) => s.event === 'assigned').at(-1);
    await until('both workers to share the 6 partitions in one generation', 40_000, () => {
      const a = last(0);
      const b = last(1);
      return (
        a?.event === 'assigned' &&
        b?.event === 'assigned' &&
        a.generation === b.generation &&
        a.partitions.length + b.partitions.length === 6
      );
    });
    const owned = [0, 1].map((i) => {
      const s = last(i);
      return byRole(s?.event === 'assigned' ? s.partitions : []);
    });
    for (const o of owned) {
      expect(o.readings.length).toBeGreaterThan(0);
      expect(o.logs).toEqual(o.readings);
    }
    expect([...owned[0]!.readings, ...owned[1]!.readings].sort()).toEqual([0, 1, 2]);
  }, 60_000);

  it("the driver's round robin splits them (why the worker does not use it)", async () => {
    const seen: KafkaAssignment[][] = [[], []];
    const subs = await Promise.all(
      [0, 1].map((i) =>
        kafka.subscribe({
          topics: [layout.name('readings'), layout.name('logs')],
          groupId: `rr-${run}`,
          assignment: 'round_robin',
          max_wait_ms: 100,
          onAssignment: (a) => seen[i]!.push(a),
        }),
      ),
    );
    stops.push(async () => {
      for (const s of subs) await s.close();
    });
    const flat = (a: KafkaAssignment | undefined) =>
      (a?.partitions ?? []).flatMap((t) => t.partitions.map((p) => `${t.topic}[${p}]`));
    await until('both members to share the 6 partitions in one generation', 40_000, () => {
      const a = seen[0]!.at(-1);
      const b = seen[1]!.at(-1);
      return (
        a !== undefined && b !== undefined && a.generation === b.generation && flat(a).length + flat(b).length === 6
      );
    });
    const split = [0, 1].map((i) => byRole(flat(seen[i]!.at(-1)))).some((o) => o.logs.join() !== o.readings.join());
    expect(split).toBe(true);
  }, 60_000);

  it('refuses to create a layout whose existing modality topics have other partition counts', async () => {
    const bad = topicLayout({ prefix: `${prefix}-bad` });
    await kafka.ensureTopic(bad.name('logs'), 2);
    await expect(ensureTopics(kafka, bad, { event_partitions: 3 })).rejects.toThrow(
      /must have equal partition counts.*logs=2/,
    );
  });
});
