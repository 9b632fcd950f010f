// The worker's own bookkeeping (restore, skip what a snapshot covers, commit after state, drop
// revoked partitions) over an in-memory stand-in for the driver. That it works against a real
// broker and a real SIGKILL is shown by scale-out.integration.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KafkaClient } from '../kafka/client.ts';
import type { DriverGroupJoin, DriverInMessage, KafkaDriver } from '../kafka/driver.ts';
import { MemorySink, reading, silentLogger, testConfig } from '../runtime/testing.ts';
import { createDirStateStore, type PartitionStateStore } from './state-store.ts';
import { seededRandom } from './testing.ts';
import { Worker, type CheckpointStep, type WorkerOptions } from './worker.ts';

const TOPIC = 'retimuad.readings';

/** A one-member group over fixed partitions; records are delivered from `from` offsets. */
function driverOver(
  partitions: Record<number, string[]>,
  from: Record<number, number>,
  committed: Map<number, bigint>,
): KafkaDriver {
  const msgs: DriverInMessage[] = [];
  for (const [p, values] of Object.entries(partitions)) {
    values.forEach((value, i) => {
      if (i < (from[Number(p)] ?? 0)) return;
      msgs.push(message(TOPIC, Number(p), i, value, () => committed.set(Number(p), BigInt(i) + 1n)));
    });
  }
  return driverWith(msgs, [{ topic: TOPIC, partitions: Object.keys(partitions).map(Number) }]);
}

function message(topic: string, partition: number, offset: number, value: string, commit: () => void): DriverInMessage {
  return {
    topic,
    partition,
    offset: BigInt(offset),
    key: Buffer.from('k'),
    value: Buffer.from(value),
    timestamp: 1_767_225_600_000n,
    headers: new Map(),
    commit,
  };
}

/** A one-member group owning `assignments`, delivering `msgs` in the order given; `onDelivered` once all were. */
function driverWith(
  msgs: readonly DriverInMessage[],
  assignments: Array<{ topic: string; partitions: number[] }>,
  onDelivered: () => void = () => {},
): KafkaDriver {
  return {
    Admin: class {
      createTopics() {
        return Promise.resolve();
      }
      close() {
        return Promise.resolve();
      }
    },
    Producer: class {
      send() {
        return Promise.resolve();
      }
      close() {
        return Promise.resolve();
      }
    },
    Consumer: class {
      #join: ((p: DriverGroupJoin) => void) | undefined;
      on(_e: 'consumer:group:join', cb: (p: DriverGroupJoin) => void) {
        this.#join = cb;
        return this;
      }
      consume() {
        this.#join?.({ groupId: 'g', memberId: 'm', generationId: 1, assignments });
        let closed = false;
        return Promise.resolve({
          async *[Symbol.asyncIterator]() {
            for (const m of msgs) yield await Promise.resolve(m);
            onDelivered();
            while (!closed) await new Promise((r) => setTimeout(r, 5));
          },
          close() {
            closed = true;
            return Promise.resolve();
          },
        });
      }
      close() {
        return Promise.resolve();
      }
    },
  };
}

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-worker-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const values = (n: number, asset: string) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify(reading(i, i % 4 === 3 ? 50 : 1, { id: `${asset}-${i}`, asset, stage: asset })),
  );

async function runOnce(
  parts: Record<number, string[]>,
  from: Record<number, number>,
  stateDir: string,
  until: number,
  extra: (committed: ReadonlyMap<number, bigint>) => Partial<WorkerOptions> = () => ({}),
) {
  const committed = new Map<number, bigint>();
  const kafka = new KafkaClient({
    brokers: ['127.0.0.1:9092'],
    clientId: 't',
    driver: driverOver(parts, from, committed),
  });
  const sink = new MemorySink();
  const cfg = testConfig(dir);
  const w = new Worker({
    kafka,
    topics: [TOPIC],
    groupId: 'g',
    detectors: cfg.detectors,
    correlator: cfg.correlator,
    sinks: [sink],
    store: createDirStateStore(stateDir),
    logger: silentLogger,
    checkpoint_interval_ms: 20,
    ...extra(committed),
  });
  const running = w.run();
  while (w.processed < until) await new Promise((r) => setTimeout(r, 5));
  w.stop();
  await running;
  await kafka.close();
  return { sink, committed, processed: w.processed };
}

const ids = (s: MemorySink) =>
  [
    ...s.of('anomaly').map((r) => r.anomaly.id),
    ...s.of('incident').map((r) => `${r.incident.id}#${r.incident.revision}`),
  ].sort();

describe('Worker', () => {
  it('resumes from its snapshot: records the snapshot covers are skipped, the output equals one straight run', async () => {
    const full = { 0: values(40, 'P-1'), 1: values(30, 'P-2') };
    const straight = await runOnce(full, {}, join(dir, 'straight'), 70);

    const half = { 0: full[0].slice(0, 20), 1: full[1].slice(0, 10) };
    const first = await runOnce(half, {}, join(dir, 'shared'), 30);
    expect([...first.committed]).toEqual([
      [0, 20n],
      [1, 10n],
    ]);
    // The group redelivers from an older offset (a commit was lost): the snapshot says where to go on.
    const second = await runOnce(full, { 0: 15, 1: 0 }, join(dir, 'shared'), 40);
    expect(second.processed).toBe(40);
    expect([...ids(first.sink), ...ids(second.sink)].sort()).toEqual(ids(straight.sink));
    expect(ids(straight.sink).length).toBeGreaterThan(4);
  });

  it('dead-letters unreadable records with a deterministic id and still moves past them', async () => {
    const parts = { 0: ['{nope', JSON.stringify({ kind: 'reading', id: 'x' }), ...values(3, 'P-1')] };
    const r = await runOnce(parts, {}, join(dir, 'dl'), 5);
    expect(r.sink.of('deadletter').map((d) => [d.deadLetter.id, d.deadLetter.where])).toEqual([
      [`dl-${TOPIC}-0-0`, `kafka ${TOPIC}[0]@0`],
      [`dl-${TOPIC}-0-1`, `kafka ${TOPIC}[0]@1`],
    ]);
    expect(r.sink.of('deadletter')[0]?.deadLetter.reason).toMatch(/^not JSON/);
    expect(r.committed.get(0)).toBe(5n);
  });

  it('inside a checkpoint: output first, then every state save, and only then the commits (never ahead of the saved state)', async () => {
    const steps: CheckpointStep[] = [];
    const saved = new Map<number, bigint>();
    const violations: string[] = [];
    const dirStore = createDirStateStore(join(dir, 'order'));
    const store: PartitionStateStore = {
      load: (p) => dirStore.load(p),
      async save(snap) {
        const ok = await dirStore.save(snap);
        for (const t of snap.topics) saved.set(snap.partition, BigInt(t.next_offset));
        return ok;
      },
    };
    await runOnce({ 0: values(40, 'P-1'), 1: values(30, 'P-2') }, {}, '', 70, (committed) => ({
      store,
      onCheckpointStep: (step) => {
        steps.push(step);
        // A commit beyond the saved state would make a crash skip records the state never saw.
        for (const [p, off] of committed) {
          if (off > (saved.get(p) ?? -1n))
            violations.push(`${step}: partition ${p} committed ${off}, saved ${saved.get(p)}`);
        }
      },
    }));
    expect(violations).toEqual([]);
    expect(steps.filter((s) => s === 'offset-committed').length).toBeGreaterThan(0);
    // Each checkpoint reads output-written, state-saved x n, offset-committed x n (w s…s c…c).
    const letter = { 'output-written': 'w', 'state-saved': 's', 'offset-committed': 'c' } as const;
    const text = steps.map((s) => letter[s]).join('');
    expect(text).toMatch(/^(ws+c+)+w*$/);
    for (const m of text.matchAll(/w(s+)(c+)/g)) expect(m[1]!.length).toBe(m[2]!.length);
  });
});

describe('Worker across co-partitioned topics (one Processor per partition number)', () => {
  const READINGS = 'retimuad.readings';
  const AUDIO = 'retimuad.audio';
  const LOGS = 'retimuad.logs';
  const T0 = Date.UTC(2026, 0, 1);
  type Rec = [topic: string, partition: number, value: string];

  const clip = (i: number, asset: string) =>
    JSON.stringify({
      kind: 'audio',
      id: `a-${asset}-${i}`,
      time: T0 + i * 1000,
      ingestTime: T0 + i * 1000,
      site: 'plant-a',
      asset,
      stage: asset,
      source: 'test',
      media: { uri: `blob://audio/${asset}-${i}.wav`, contentType: 'audio/wav', bytes: 3200, sha256: 'a'.repeat(64) },
      sampleRateHz: 16000,
      channels: 1,
      durationMs: 100,
    });
  const logLine = (i: number, asset: string) =>
    JSON.stringify({
      kind: 'log',
      id: `l-${asset}-${i}`,
      time: T0 + i * 1000,
      ingestTime: T0 + i * 1000,
      site: 'plant-a',
      asset,
      source: 'test',
      level: 'info',
      message: `pump ${asset} running`,
      fields: {},
    });
  const flat = (n: number, asset: string, spikes: number[]) =>
    Array.from({ length: n }, (_, i) =>
      JSON.stringify(reading(i, spikes.includes(i) ? 50 : 1, { id: `${asset}-${i}`, asset, stage: asset })),
    );

  /** Runs one worker over `recs` delivered in that order (offsets per topic-partition follow it). */
  async function runMulti(recs: readonly Rec[], stateDir: string, o: { drain?: boolean; covered?: number } = {}) {
    const expected = recs.length - (o.covered ?? 0);
    const next = new Map<string, number>();
    const committed = new Map<string, bigint>();
    const msgs = recs.map(([topic, p, value]) => {
      const k = `${topic}[${p}]`;
      const offset = next.get(k) ?? 0;
      next.set(k, offset + 1);
      return message(topic, p, offset, value, () => committed.set(k, BigInt(offset) + 1n));
    });
    const topics = [AUDIO, LOGS, READINGS];
    const kafka = new KafkaClient({
      brokers: ['127.0.0.1:9092'],
      clientId: 't',
      driver: driverWith(
        msgs,
        topics.map((topic) => ({ topic, partitions: [0, 1] })),
      ),
    });
    // Wall time stands still while records arrive, so only the data decides the merge order (no
    // bounded wait expires); once all arrived, time jumps and the held tail drains.
    let frozen = true;
    const clock = { now: () => (frozen ? 0 : Date.now()) };
    const sink = new MemorySink();
    const cfg = testConfig(dir);
    const w = new Worker({
      kafka,
      topics,
      groupId: 'g',
      detectors: [
        ...cfg.detectors,
        {
          ...cfg.detectors[0]!,
          id: 'clip',
          params: { warmup: 0, limit: 0 },
          key: ['site', 'asset'],
          select: { kind: 'audio' },
        },
      ],
      correlator: { ...cfg.correlator, group_by: 'asset' },
      sinks: [sink],
      store: createDirStateStore(stateDir),
      logger: silentLogger,
      clock,
      checkpoint_interval_ms: 20,
    });
    const running = w.run();
    while (w.processed + w.held < expected) await new Promise((r) => setTimeout(r, 5));
    if (o.drain !== false) {
      frozen = false;
      while (w.processed < expected) await new Promise((r) => setTimeout(r, 5));
    }
    w.stop();
    await running;
    await kafka.close();
    const incidents = sink.of('incident').map((r) => r.incident);
    return { sink, committed, incidents, processed: w.processed };
  }

  it('puts a reading anomaly and an audio anomaly of one asset, from different topics, into ONE incident', async () => {
    const recs: Rec[] = [...flat(30, 'P-1', [20]).map((v): Rec => [READINGS, 0, v]), [AUDIO, 0, clip(22, 'P-1')]];
    const { incidents, committed } = await runMulti(recs, join(dir, 'one'));
    expect(new Set(incidents.map((i) => i.id)).size).toBe(1);
    const last = incidents.at(-1)!;
    expect([...last.modalities].sort()).toEqual(['audio', 'reading']);
    expect(last.evidence.map((a) => a.detector).sort()).toEqual(['clip', 'w']);
    // Both topic-partitions were committed up to their ends.
    expect(committed.get(`${READINGS}[0]`)).toBe(30n);
    expect(committed.get(`${AUDIO}[0]`)).toBe(1n);
  });

  it('gives identical incidents for the same input whatever the arrival interleaving across topics', async () => {
    const byTp: Rec[][] = [
      flat(60, 'P-1', [12, 30, 31, 50]).map((v): Rec => [READINGS, 0, v]),
      [8, 12, 31, 44, 52].map((i): Rec => [AUDIO, 0, clip(i, 'P-1')]).concat([[AUDIO, 0, '{nope']]),
      [0, 10, 20, 30, 40].map((i): Rec => [LOGS, 0, logLine(i, 'P-1')]),
      flat(50, 'P-2', [9, 25, 40]).map((v): Rec => [READINGS, 1, v]),
      [9, 26, 41].map((i): Rec => [AUDIO, 1, clip(i, 'P-2')]),
    ];
    const random = seededRandom(5);
    const shuffled = (): Rec[] => {
      const at = byTp.map(() => 0);
      const out: Rec[] = [];
      for (;;) {
        const open = byTp.map((_, i) => i).filter((i) => at[i]! < byTp[i]!.length);
        if (open.length === 0) return out;
        const i = open[Math.floor(random() * open.length)]!;
        out.push(byTp[i]![at[i]!++]!);
      }
    };
    const orders: Rec[][] = [byTp.flat(), [...byTp].reverse().flat(), shuffled(), shuffled()];
    const runs: Array<Awaited<ReturnType<typeof runMulti>>> = [];
    for (const [n, order] of orders.entries()) runs.push(await runMulti(order, join(dir, `order-${n}`)));
    const fingerprint = (r: (typeof runs)[number]) => ({
      incidents: r.incidents.map((i) => JSON.stringify(i)).sort(),
      anomalies: ids(r.sink),
      dead: r.sink.of('deadletter').map((d) => d.deadLetter.id),
    });
    const first = fingerprint(runs[0]!);
    expect(first.incidents.length).toBeGreaterThan(2);
    expect(runs[0]!.incidents.some((i) => i.modalities.includes('audio') && i.modalities.includes('reading'))).toBe(
      true,
    );
    expect(first.dead).toEqual([`dl-${AUDIO}-0-5`]);
    for (const r of runs.slice(1)) expect(fingerprint(r)).toEqual(first);
  });
  it('restores the offsets of every topic-partition from one snapshot: stop + resume equals one straight run', async () => {
    const recs: Rec[] = [];
    const reads = flat(40, 'P-1', [10, 25, 33]);
    reads.forEach((v, i) => {
      recs.push([READINGS, 0, v]);
      if (i % 7 === 3) recs.push([AUDIO, 0, clip(i, 'P-1')]);
      if (i % 9 === 0) recs.push([LOGS, 0, logLine(i, 'P-1')]);
    });
    const straight = await runMulti(recs, join(dir, 'straight'));
    // Stops after half the input without draining: what the merge still holds is not in the
    // snapshot, and the next life fetches everything again from offset 0.
    const half = recs.slice(0, recs.length / 2);
    const first = await runMulti(half, join(dir, 'resume'), { drain: false });
    const covered = [...first.committed.values()].reduce((a, b) => a + Number(b), 0);
    expect(covered).toBe(first.processed);
    expect(first.committed.size).toBe(3); // readings, audio and logs of partition 0 all committed
    const second = await runMulti(recs, join(dir, 'resume'), { covered });
    const revs = (r: { incidents: Array<{ id: string; revision: number }> }) =>
      r.incidents.map((i) => JSON.stringify(i));
    expect(new Set([...revs(first), ...revs(second)])).toEqual(new Set(revs(straight)));
    expect(revs(straight).length).toBeGreaterThan(1);
  });
});
