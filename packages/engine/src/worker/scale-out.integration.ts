// Scale-out against the real broker (scripts/services/kafka.sh): two `retimuad worker` processes
// share the partitions of a group; one is killed with SIGKILL mid-stream; the other takes its
// partitions over with their state. The incidents (and anomalies) read back from Kafka and
// de-duplicated by id + revision must equal those of a reference run that was never disturbed.
// Env: RETIMUAD_KAFKA_BROKERS (default: start the local broker with kafka.sh).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokers, type KafkaClient } from '../kafka/client.ts';
import { connectKafka } from '../kafka/connect.ts';
import { simulateToKafka } from '../kafka/simulate.ts';
import { ensureTopics, type TopicLayout } from '../kafka/topics.ts';
import { startWorker } from './command.ts';
import type { PartitionSnapshot } from './state-store.ts';
import type { WorkerStatus } from './worker.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const kafkaSh = join(root, 'scripts/services/kafka.sh');
const run = `${Date.now()}-${process.pid}`;
const prefix = `itest-so-${run}`;
let brokers: string[] = [];
let dir = '';
let kafka: KafkaClient;
let layout: TopicLayout;
const children: ChildProcess[] = [];

function config(group: string, outPrefix: string, stateDir: string): string {
  return `version: 1
site: plant-a
data_dir: ${join(dir, group)}
sources:
  - { id: bus, type: kafka, brokers: "${brokers.join(',')}", topic_prefix: ${prefix}, group_id: ${group}, topics: [readings, logs], state_dir: ${stateDir}, checkpoint_interval_ms: 250 }
detectors:
  - { id: signal-z, type: rolling_zscore, select: { kind: reading, metric: [flow_m3h, pressure_kpa, vibration_mm_s, current_a] }, params: { window_points: 300, min_points: 60, threshold_z: 6 } }
  - { id: tank-high, type: threshold_duration, select: { kind: reading, metric: level_mm }, params: { high: 950, duration_secs: 10, hysteresis: 20, severity: critical } }
  - { id: vibration-high, type: threshold_duration, select: { kind: reading, metric: vibration_mm_s }, params: { high: 7.1, duration_secs: 15, hysteresis: 0.5 } }
  - { id: login-failures, type: event_burst, select: { kind: log, fields: { event.outcome: failure } }, key: [site, asset], params: { window_secs: 60, max_events: 5, severity: critical } }
correlator: { window_secs: 120, resolve_after_secs: 60, group_by: stage }
sinks:
  - { id: out, type: kafka, brokers: "${brokers.join(',')}", topic_prefix: ${outPrefix}, event_partitions: 2 }
`;
}

/** Every record of a topic, read with a fresh group until nothing new arrives for idle_ms. */
async function readAll(topic: string, idleMs = 2500): Promise<Array<{ key: string; value: string }>> {
  const sub = await kafka.subscribe({
    topics: [topic],
    groupId: `reader-${run}-${topic}`,
    from: 'earliest',
    max_wait_ms: 100,
  });
  const out: Array<{ key: string; value: string }> = [];
  const it = sub[Symbol.asyncIterator]();
  const seen = new Set<string>();
  for (;;) {
    const timer = new Promise<'idle'>((r) => setTimeout(() => r('idle'), idleMs));
    const got = await Promise.race([it.next(), timer]);
    if (got === 'idle' || got.done === true) break;
    // At-least-once: a rebalance of the fresh group can replay a partition; keep each offset once.
    const at = `${got.value.partition}@${got.value.offset}`;
    if (seen.has(at)) continue;
    seen.add(at);
    out.push({ key: got.value.key?.toString() ?? '', value: got.value.value.toString() });
  }
  await sub.close();
  return out;
}

/** Incident revisions de-duplicated by id + revision (a replay rewrites identical records). */
function byRevision(recs: Array<{ value: string }>): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of recs) {
    const inc = JSON.parse(r.value) as { id: string; revision: number };
    const k = `${inc.id}#${inc.revision}`;
    const prev = m.get(k);
    if (prev !== undefined && prev !== r.value)
      throw new Error(`incident ${k} was written twice with different content`);
    m.set(k, r.value);
  }
  return m;
}

async function snapshots(stateDir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  let files: string[] = [];
  try {
    files = (await readdir(stateDir)).filter((f) => f.endsWith('.json'));
  } catch {
    return m;
  }
  for (const f of files) {
    const s = JSON.parse(await readFile(join(stateDir, f), 'utf8')) as PartitionSnapshot;
    m.set(`${s.topic}[${s.partition}]`, s.next_offset);
  }
  return m;
}

async function until(what: string, ms: number, test: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function spawnWorker(cfgFile: string, name: string): { child: ChildProcess; status: WorkerStatus[] } {
  const child = spawn(process.execPath, [join(root, 'bin/retimuad.mjs'), 'worker', '--config', cfgFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RETIMUAD_LOG_LEVEL: 'info' },
  });
  children.push(child);
  const status: WorkerStatus[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      status.push(JSON.parse(l) as WorkerStatus);
    } catch {
      // not a status line
    }
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.on('exit', (code, sig) => {
    if (code !== 0 && sig !== 'SIGKILL' && sig !== 'SIGTERM')
      process.stderr.write(`worker ${name} exited ${code} ${sig}: ${err}\n`);
  });
  return { child, status };
}

const owned = (s: WorkerStatus[]) => {
  const last = s.filter((x) => x.event === 'assigned').at(-1);
  return last?.event === 'assigned' ? last.partitions : [];
};

beforeAll(async () => {
  const fromEnv = process.env['RETIMUAD_KAFKA_BROKERS'];
  if (fromEnv !== undefined && fromEnv !== '') brokers = parseBrokers(fromEnv, 'RETIMUAD_KAFKA_BROKERS');
  else {
    const { stdout } = await promisify(execFile)(kafkaSh, ['start'], { timeout: 240_000 });
    brokers = parseBrokers(stdout.trim().split('\n').at(-1) ?? '', `${kafkaSh} start output`);
  }
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
    const expectedOffsets = await snapshots(baseState);
    await until('worker B to reach the end of every partition', 60_000, async () => {
      const got = await snapshots(killState);
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

    const baseIncidents = byRevision(await readAll(`${prefix}-base.incidents`));
    const killRaw = await readAll(`${prefix}-kill.incidents`);
    const killIncidents = byRevision(killRaw);
    expect(baseIncidents.size).toBeGreaterThan(0);
    expect([...killIncidents.keys()].sort()).toEqual([...baseIncidents.keys()].sort());
    for (const [k, v] of baseIncidents) expect(killIncidents.get(k)).toBe(v);

    const ids = (recs: Array<{ value: string }>) =>
      new Set(recs.map((r) => (JSON.parse(r.value) as { id: string }).id));
    const baseAnomalies = ids(await readAll(`${prefix}-base.anomalies`));
    const killAnomalies = ids(await readAll(`${prefix}-kill.anomalies`));
    expect([...killAnomalies].sort()).toEqual([...baseAnomalies].sort());
    process.stdout.write(
      `scale-out: ${total} events, ${baseIncidents.size} incident revisions, ${baseAnomalies.size} anomalies; ` +
        `kill run wrote ${killRaw.length} incident records (${killRaw.length - killIncidents.size} replayed duplicates removed by id+revision)\n`,
    );
  }, 150_000);
});
