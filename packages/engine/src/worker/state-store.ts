/**
 * Durable per-partition state for workers: one snapshot per partition NUMBER, covering that
 * partition of every co-partitioned input topic (readings[p], logs[p], audio[p], …: one
 * Processor). It holds the processor's keyed state AND the next offset of every topic-partition it
 * covers, written atomically (temp file, fsync, rename) to a directory every worker of the group
 * can read (a shared volume). Because state and offsets live in one file, a new owner of the
 * partition restores exactly the state that matches the offsets it resumes from.
 *
 * Version 1 files (one per topic-partition, `<topic>-<p>.json`) are not read: a worker upgraded
 * to version 2 starts its detectors fresh from the group's committed offsets.
 *
 * @example
 * const store = createDirStateStore('/shared/retimuad-state/detectors');
 * await store.save({ version: 2, partition: 2, topics: [{ topic: 'retimuad.readings', next_offset: '1200', last_time: 1767225600000 }], ... });
 * const snap = await store.load(2); // undefined for a partition never checkpointed
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessorSnapshot } from '../runtime/processor.ts';

export const PARTITION_SNAPSHOT_VERSION = 2;

/** Where one topic-partition stands in a snapshot. */
export interface TopicProgress {
  topic: string;
  /** The next offset to process: every record below it is reflected in the processor. Decimal string (a bigint). */
  next_offset: string;
  /**
   * Merge key (event time, never decreasing within the topic-partition) of the last record
   * processed; the merge resumes ordering from it (worker/merge.ts). Null when unknown.
   */
  last_time: number | null;
}

export interface PartitionSnapshot {
  version: number;
  partition: number;
  /** Every topic-partition the processor state covers, sorted by topic. */
  topics: TopicProgress[];
  /** Event time of the last detector tick (ticks run once per second of event time). */
  last_tick: number;
  /** Group generation and member that wrote it, for diagnostics. */
  generation: number;
  member: string;
  processor: ProcessorSnapshot;
}

export interface PartitionStateStore {
  load(partition: number): Promise<PartitionSnapshot | undefined>;
  /**
   * Saves durably. A snapshot older (a lower next_offset for any topic both cover) than the stored
   * one is not written: a member that lost the partition in a rebalance must not roll its new
   * owner's state back. Resolves whether it was written.
   */
  save(snap: PartitionSnapshot): Promise<boolean>;
}

/** True when `snap` is behind `current` on some topic both cover. */
export function isOlder(snap: PartitionSnapshot, current: PartitionSnapshot): boolean {
  const cur = new Map(current.topics.map((t) => [t.topic, BigInt(t.next_offset)]));
  return snap.topics.some((t) => {
    const c = cur.get(t.topic);
    return c !== undefined && c > BigInt(t.next_offset);
  });
}

export class StateStoreError extends Error {
  override readonly name = 'StateStoreError';
  constructor(
    readonly code: 'E_STATE_READ' | 'E_STATE_WRITE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The directory store; also answers the version-1 call shape load(topic, partition) for older callers. */
export interface DirStateStore extends PartitionStateStore {
  readonly dir: string;
  load(partition: number): Promise<PartitionSnapshot | undefined>;
  /** The snapshot covering topic[partition], with that topic's next_offset on top; undefined if it covers none. */
  load(topic: string, partition: number): Promise<(PartitionSnapshot & { next_offset: string }) | undefined>;
}

export function createDirStateStore(dir: string): DirStateStore {
  const file = (partition: number) => join(dir, `partition-${partition}.json`);
  let seq = 0;
  async function load(partition: number): Promise<PartitionSnapshot | undefined> {
    const path = file(partition);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateStoreError('E_STATE_READ', `cannot read partition state ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    let snap: PartitionSnapshot;
    try {
      snap = JSON.parse(text) as PartitionSnapshot;
    } catch (err) {
      throw new StateStoreError('E_STATE_READ', `partition state ${path} is not JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const topicsOk =
      Array.isArray(snap.topics) &&
      snap.topics.every(
        (t) =>
          typeof t.topic === 'string' &&
          typeof t.next_offset === 'string' &&
          /^\d+$/.test(t.next_offset) &&
          (t.last_time === null || typeof t.last_time === 'number'),
      );
    if (snap.version !== PARTITION_SNAPSHOT_VERSION || snap.partition !== partition || !topicsOk) {
      throw new StateStoreError(
        'E_STATE_READ',
        `partition state ${path}: expected version ${PARTITION_SNAPSHOT_VERSION} for partition ${partition} with topics [{topic, next_offset, last_time}], got version ${String(snap.version)} for partition ${String(snap.partition)}`,
      );
    }
    return snap;
  }
  async function loadEither(
    a: number | string,
    b?: number,
  ): Promise<(PartitionSnapshot & { next_offset?: string }) | undefined> {
    if (typeof a === 'number') return load(a);
    const snap = await load(b ?? 0);
    const t = snap?.topics.find((x) => x.topic === a);
    return snap === undefined || t === undefined ? undefined : { ...snap, next_offset: t.next_offset };
  }
  return {
    dir,
    load: loadEither as DirStateStore['load'],
    async save(snap: PartitionSnapshot) {
      const path = file(snap.partition);
      try {
        const current = await load(snap.partition);
        if (current !== undefined && isOlder(snap, current)) return false;
        await mkdir(dir, { recursive: true });
        const tmp = `${path}.${process.pid}.${++seq}.tmp`;
        const fh = await open(tmp, 'w');
        try {
          await fh.writeFile(JSON.stringify(snap));
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
        return true;
      } catch (err) {
        if (err instanceof StateStoreError) throw err;
        throw new StateStoreError('E_STATE_WRITE', `cannot write partition state ${path}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
  };
}
