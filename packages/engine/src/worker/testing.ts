/**
 * Helpers shared by the worker tests that run against the real broker (scale-out, crash): start
 * or find the broker, write a worker config, spawn `retimuad worker` processes and follow their
 * status lines, read a topic back, and de-duplicate incidents by id + revision.
 *
 * @example
 * const brokers = await brokersForTests();
 * await writeFile(cfg, workerConfig({ brokers, prefix, group: 'g', outPrefix: `${prefix}-out`, stateDir, dataDir }));
 * const w = spawnWorker(cfg, 'A');  // w.status fills with {"event":"assigned",…} lines
 * const incidents = byRevision(await readAll(kafka, `${prefix}-out.incidents`, 'reader-1'));
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseBrokers, type KafkaClient } from '../kafka/client.ts';
import type { PartitionSnapshot } from './state-store.ts';
import type { WorkerStatus } from './worker.ts';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** RETIMUAD_KAFKA_BROKERS, or the local broker started (idempotently) by scripts/services/kafka.sh. */
export async function brokersForTests(): Promise<string[]> {
  const fromEnv = process.env['RETIMUAD_KAFKA_BROKERS'];
  if (fromEnv !== undefined && fromEnv !== '') return parseBrokers(fromEnv, 'RETIMUAD_KAFKA_BROKERS');
  const kafkaSh = join(repoRoot, 'scripts/services/kafka.sh');
  const { stdout } = await promisify(execFile)(kafkaSh, ['start'], { timeout: 240_000 });
  return parseBrokers(stdout.trim().split('\n').at(-1) ?? '', `${kafkaSh} start output`);
}

export interface WorkerConfigOptions {
  brokers: readonly string[];
  /** Input topic prefix (the simulator's layout). */
  prefix: string;
  group: string;
  /** Output topic prefix (the kafka sink's layout). */
  outPrefix: string;
  stateDir: string;
  dataDir: string;
  checkpoint_interval_ms?: number;
}

/** A worker config over readings and logs with detectors that fire on the standard scenarios. */
export function workerConfig(o: WorkerConfigOptions): string {
  const brokers = o.brokers.join(',');
  return `version: 1
site: plant-a
data_dir: ${o.dataDir}
sources:
  - { id: bus, type: kafka, brokers: "${brokers}", topic_prefix: ${o.prefix}, group_id: ${o.group}, topics: [readings, logs], state_dir: ${o.stateDir}, checkpoint_interval_ms: ${o.checkpoint_interval_ms ?? 250} }
detectors:
  - { id: signal-z, type: rolling_zscore, select: { kind: reading, metric: [flow_m3h, pressure_kpa, vibration_mm_s, current_a] }, params: { window_points: 300, min_points: 60, threshold_z: 6 } }
  - { id: tank-high, type: threshold_duration, select: { kind: reading, metric: level_mm }, params: { high: 950, duration_secs: 10, hysteresis: 20, severity: critical } }
  - { id: vibration-high, type: threshold_duration, select: { kind: reading, metric: vibration_mm_s }, params: { high: 7.1, duration_secs: 15, hysteresis: 0.5 } }
  - { id: login-failures, type: event_burst, select: { kind: log, fields: { event.outcome: failure } }, key: [site, asset], params: { window_secs: 60, max_events: 5, severity: critical } }
correlator: { window_secs: 120, resolve_after_secs: 60, group_by: stage }
sinks:
  - { id: out, type: kafka, brokers: "${brokers}", topic_prefix: ${o.outPrefix}, event_partitions: 2 }
`;
}

/** Every record of a topic, read with a fresh group until nothing new arrives for idleMs. */
export async function readAll(
  kafka: KafkaClient,
  topic: string,
  groupId: string,
  idleMs = 2500,
): Promise<Array<{ key: string; value: string }>> {
  const sub = await kafka.subscribe({ topics: [topic], groupId, from: 'earliest', max_wait_ms: 100 });
  const out: Array<{ key: string; value: string }> = [];
  const it = sub[Symbol.asyncIterator]();
  const seen = new Set<string>();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<'idle'>((r) => (timer = setTimeout(() => r('idle'), idleMs)));
    const got = await Promise.race([it.next(), idle]);
    clearTimeout(timer);
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

/**
 * Incident revisions keyed by id + revision. A replay after a crash rewrites identical records,
 * which collapse here; the same id + revision written with different content throws (that would
 * be a real duplicate, not a replay).
 */
export function byRevision(recs: ReadonlyArray<{ value: string }>): Map<string, string> {
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

/** Distinct ids of JSON records (anomalies). */
export const distinctIds = (recs: ReadonlyArray<{ value: string }>): Set<string> =>
  new Set(recs.map((r) => (JSON.parse(r.value) as { id: string }).id));

/** The next_offset of every topic-partition covered by the partition snapshots in a state directory, by "topic[p]". */
export async function snapshotOffsets(stateDir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  let files: string[] = [];
  try {
    files = (await readdir(stateDir)).filter((f) => f.endsWith('.json'));
  } catch {
    return m;
  }
  for (const f of files) {
    const s = JSON.parse(await readFile(join(stateDir, f), 'utf8')) as PartitionSnapshot;
    for (const t of s.topics) m.set(`${t.topic}[${s.partition}]`, t.next_offset);
  }
  return m;
}

/** Polls test() every pollMs until it holds; throws naming `what` after ms. */
export async function until(
  what: string,
  ms: number,
  test: () => Promise<boolean> | boolean,
  pollMs = 200,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export interface SpawnedWorker {
  child: ChildProcess;
  /** Status lines in arrival order, each with the wall time (ms) it arrived. */
  status: WorkerStatus[];
  at: number[];
  /** When the process was spawned (wall ms). */
  started: number;
  /** Resolves when the process has exited (any cause). */
  exited: Promise<void>;
}

/** Spawns `retimuad worker --config cfgFile`; stderr is shown only if it exits on its own with an error. */
export function spawnWorker(
  cfgFile: string,
  name: string,
  env: Record<string, string> = {},
  onStatus?: (s: WorkerStatus) => void,
): SpawnedWorker {
  const started = Date.now();
  const child = spawn(process.execPath, [join(repoRoot, 'bin/retimuad.mjs'), 'worker', '--config', cfgFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RETIMUAD_LOG_LEVEL: 'info', ...env },
  });
  const status: WorkerStatus[] = [];
  const at: number[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    let s: WorkerStatus;
    try {
      s = JSON.parse(l) as WorkerStatus;
    } catch {
      return; // not a status line
    }
    status.push(s);
    at.push(Date.now());
    onStatus?.(s);
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    if (err.length < 20_000) err += d.toString();
  });
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, sig) => {
      if (code !== 0 && sig !== 'SIGKILL' && sig !== 'SIGTERM')
        process.stderr.write(`worker ${name} exited ${code} ${sig}: ${err}\n`);
      resolve();
    });
  });
  return { child, status, at, started, exited };
}

/** The partitions a worker owns after its last assignment. */
export function owned(s: readonly WorkerStatus[]): string[] {
  const last = s.filter((x) => x.event === 'assigned').at(-1);
  return last?.event === 'assigned' ? last.partitions : [];
}

/** A small seeded PRNG (mulberry32) for reproducible kill schedules. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile (0..1) of a list of numbers, nearest rank; NaN for an empty list. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
