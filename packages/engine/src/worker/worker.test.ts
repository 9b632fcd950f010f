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
      msgs.push({
        topic: TOPIC,
        partition: Number(p),
        offset: BigInt(i),
        key: Buffer.from('k'),
        value: Buffer.from(value),
        timestamp: 1_767_225_600_000n,
        headers: new Map(),
        commit: () => {
          committed.set(Number(p), BigInt(i) + 1n);
        },
      });
    });
  }
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
        this.#join?.({
          groupId: 'g',
          memberId: 'm',
          generationId: 1,
          assignments: [{ topic: TOPIC, partitions: Object.keys(partitions).map(Number) }],
        });
        let closed = false;
        return Promise.resolve({
          async *[Symbol.asyncIterator]() {
            for (const m of msgs) yield await Promise.resolve(m);
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
      load: (topic, p) => dirStore.load(topic, p),
      async save(snap) {
        const ok = await dirStore.save(snap);
        saved.set(snap.partition, BigInt(snap.next_offset));
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
