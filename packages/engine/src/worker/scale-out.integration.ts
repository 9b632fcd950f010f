// Scale-out against the real broker (scripts/services/kafka.sh): two `retimuad worker` processes
// share the partitions of a group; one is killed with SIGKILL mid-stream; the other takes its
// partitions over with their state. The incidents (and anomalies) read back from Kafka and
// de-duplicated by id + revision must equal those of a reference run that was never disturbed.
// Env: RETIMUAD_KAFKA_BROKERS (default: start the local broker with kafka.sh).
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient } from '../kafka/client.ts';
import { connectKafka } from '../kafka/connect.ts';
import { simulateToKafka } from '../kafka/simulate.ts';
import { ensureTopics, type TopicLayout } from '../kafka/topics.ts';
import { startWorker } from './command.ts';
import {
  brokersForTests,
  byRevision,
  distinctIds,
  owned,
  readAll,
  snapshotOffsets,
  spawnWorker as spawnLife,
  until,
  workerConfig,
} from './testing.ts';

const run = `${Date.now()}-${process.pid}`;
const prefix = `itest-so-${run}`;
let brokers: string[] = [];
let dir = '';
let kafka: KafkaClient;
let layout: TopicLayout;
const children: ChildProcess[] = [];

function spawnWorker(cfgFile: string, name: string) {
  const w = spawnLife(cfgFile, name);
  children.push(w.child);
  return w;
}

function config(group: string, outPrefix: string, stateDir: string): string {
  return workerConfig({ brokers, prefix, group, outPrefix, stateDir, dataDir: join(dir, group) });
}

beforeAll(async () => {
  brokers = await brokersForTests();
  dir = await mkdtemp(join(tmpdir(), 'retimuad-scaleout-'));
  ({ kafka, layout } = await connectKafka({ brokers, topic_prefix: prefix }, 'itest-scaleout'));
  await ensureTopics(kafka, layout, { event_partitions: 4 });
}, 300_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await kafka?.close();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('two workers, one killed with SIGKILL', () => {
  it('loses and duplicates no incident: same incidents as an undisturbed run', async () => {
    const baseState = join(dir, 'state-base');
    const killState = join(dir, 'state-kill');
    await writeFile(join(dir, 'base.yaml'), config(`base-${run}`, `${prefix}-base`, baseState));
    await writeFile(join(dir, 'kill.yaml'), config(`kill-${run}`, `${prefix}-kill`, killState));

    const a = spawnWorker(join(dir, 'kill.yaml'), 'A');
    const b = spawnWorker(join(dir, 'kill.yaml'), 'B');
    // The reference: one undisturbed worker in this process.
    const base = await startWorker({ config: join(dir, 'base.yaml'), logger: pino({ level: 'silent' }) });
    // Both members joined one generation and split the 8 topic-partitions.
    await until(
      'both workers to share the partitions',
      40_000,
      () =>
        owned(a.status).length > 0 &&
        owned(b.status).length > 0 &&
        owned(a.status).length + owned(b.status).length === 8,
    );

    const producing = simulateToKafka({
      kafka,
      layout,
      seed: 11,
      durationSecs: 1200,
      startTime: Date.UTC(2026, 0, 1),
      scenarios: ['tank_overflow', 'login_bruteforce', 'bearing_wear', 'pump_cavitation'],
      keyBy: 'stage',
      blobsDir: join(dir, 'blobs'),
      speed: 150,
      chunk_secs: 20,
    });
    // Kill A once it has checkpointed part of the stream and more is still coming.
    await until('worker A to checkpoint', 30_000, () =>
      a.status.some((s) => s.event === 'checkpoint' && s.records > 0),
    );
    await new Promise((r) => setTimeout(r, 700));
    a.child.kill('SIGKILL');
    const produced = await producing;
    const total = (produced.counts['reading'] ?? 0) + (produced.counts['log'] ?? 0);
    expect(total).toBeGreaterThan(10_000);

    await until('the reference worker to process everything', 60_000, () => base.worker.processed >= total);
    await base.stop();
    const expectedOffsets = await snapshotOffsets(baseState);
    await until('worker B to reach the end of every partition', 60_000, async () => {
      const got = await snapshotOffsets(killState);
      return [...expectedOffsets].every(([k, v]) => got.get(k) === v);
    });
    expect(owned(b.status)).toHaveLength(8);
    // B restored at least one partition from A's checkpoint (a non-empty state handed over).
    const ofA = owned(a.status);
    const restoredFromA = b.status.filter(
      (s) => s.event === 'restored' && s.next_offset !== null && ofA.includes(s.task),
    );
    expect(restoredFromA.length).toBeGreaterThan(0);
    b.child.kill('SIGTERM');

    const baseIncidents = byRevision(await readAll(kafka, `${prefix}-base.incidents`, `reader-${run}-bi`));
    const killRaw = await readAll(kafka, `${prefix}-kill.incidents`, `reader-${run}-ki`);
    const killIncidents = byRevision(killRaw);
    expect(baseIncidents.size).toBeGreaterThan(0);
    expect([...killIncidents.keys()].sort()).toEqual([...baseIncidents.keys()].sort());
    for (const [k, v] of baseIncidents) expect(killIncidents.get(k)).toBe(v);

    const baseAnomalies = distinctIds(await readAll(kafka, `${prefix}-base.anomalies`, `reader-${run}-ba`));
    const killAnomalies = distinctIds(await readAll(kafka, `${prefix}-kill.anomalies`, `reader-${run}-ka`));
    expect([...killAnomalies].sort()).toEqual([...baseAnomalies].sort());
    process.stdout.write(
      `scale-out: ${total} events, ${baseIncidents.size} incident revisions, ${baseAnomalies.size} anomalies; ` +
        `kill run wrote ${killRaw.length} incident records (${killRaw.length - killIncidents.size} replayed duplicates removed by id+revision)\n`,
    );
  }, 150_000);
});
