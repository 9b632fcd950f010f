/**
 * Durable per-partition state for workers: one snapshot per input topic-partition holding the
 * processor's keyed state AND the offset it covers, written atomically (temp file, fsync,
 * rename) to a directory every worker of the group can read (a shared volume). Because state and
 * offset live in one file, a new owner of the partition restores exactly the state that matches
 * the offset it resumes from.
 *
 * @example
 * const store = createDirStateStore('/shared/retimuad-state/detectors');
 * await store.save({ topic: 'retimuad.readings', partition: 2, next_offset: '1200', ... });
 * const snap = await store.load('retimuad.readings', 2); // undefined for a partition never checkpointed
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessorSnapshot } from '../runtime/processor.ts';

export const PARTITION_SNAPSHOT_VERSION = 1;

export interface PartitionSnapshot {
  version: number;
  topic: string;
  partition: number;
  /** The next offset to process: every record below it is reflected in `processor`. Decimal string (a bigint). */
  next_offset: string;
  /** Event time of the last detector tick (ticks run once per second of event time). */
  last_tick: number;
  /** Group generation and member that wrote it, for diagnostics. */
  generation: number;
  member: string;
  processor: ProcessorSnapshot;
}

export interface PartitionStateStore {
  load(topic: string, partition: number): Promise<PartitionSnapshot | undefined>;
  /**
   * Saves durably. A snapshot older (lower next_offset) than the stored one is not written: a
   * member that lost the partition in a rebalance must not roll its new owner's state back.
   * Resolves whether it was written.
   */
  save(snap: PartitionSnapshot): Promise<boolean>;
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

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

export function createDirStateStore(dir: string): PartitionStateStore & { readonly dir: string } {
  const file = (topic: string, partition: number) => join(dir, `${safe(topic)}-${partition}.json`);
  let seq = 0;
  async function load(topic: string, partition: number): Promise<PartitionSnapshot | undefined> {
    const path = file(topic, partition);
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
    if (
      snap.version !== PARTITION_SNAPSHOT_VERSION ||
      snap.topic !== topic ||
      snap.partition !== partition ||
      !/^\d+$/.test(snap.next_offset)
    ) {
      throw new StateStoreError(
        'E_STATE_READ',
        `partition state ${path}: expected version ${PARTITION_SNAPSHOT_VERSION} for ${topic}[${partition}] with a next_offset, got version ${String(snap.version)} for ${String(snap.topic)}[${String(snap.partition)}]`,
      );
    }
    return snap;
  }
  return {
    dir,
    load,
    async save(snap) {
      const path = file(snap.topic, snap.partition);
      try {
        const current = await load(snap.topic, snap.partition);
        if (current !== undefined && BigInt(current.next_offset) > BigInt(snap.next_offset)) return false;
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
