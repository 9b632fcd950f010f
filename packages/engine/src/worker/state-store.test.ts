import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDirStateStore,
  PARTITION_SNAPSHOT_VERSION,
  StateStoreError,
  type PartitionSnapshot,
} from './state-store.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const snap = (next: string, over: Partial<PartitionSnapshot> = {}): PartitionSnapshot => ({
  version: PARTITION_SNAPSHOT_VERSION,
  topic: 'retimuad.readings',
  partition: 3,
  next_offset: next,
  last_tick: 1000,
  generation: 2,
  member: 'm-1',
  processor: { version: 1, watermark: 1000, detectors: {}, correlator: { version: 1, open: {}, watermark: 1000 } },
  ...over,
});

describe('dir state store', () => {
  it('returns undefined for a partition never saved, and what was saved otherwise', async () => {
    const s = createDirStateStore(join(dir, 'group'));
    expect(await s.load('retimuad.readings', 3)).toBeUndefined();
    expect(await s.save(snap('10'))).toBe(true);
    expect(await s.load('retimuad.readings', 3)).toEqual(snap('10'));
    expect(await s.load('retimuad.readings', 4)).toBeUndefined();
  });

  it('never rolls a partition back to an older offset (a fenced-off member writing late)', async () => {
    const s = createDirStateStore(dir);
    await s.save(snap('100'));
    expect(await s.save(snap('99', { member: 'old' }))).toBe(false);
    expect((await s.load('retimuad.readings', 3))?.next_offset).toBe('100');
    expect(await s.save(snap('100', { member: 'same-offset' }))).toBe(true);
  });

  it('fails with E_STATE_READ naming the file when a snapshot is corrupt or not ours', async () => {
    const s = createDirStateStore(dir);
    await writeFile(join(dir, 'retimuad.readings-3.json'), '{not json');
    const err = await s.load('retimuad.readings', 3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect((err as StateStoreError).code).toBe('E_STATE_READ');
    expect((err as Error).message).toContain('retimuad.readings-3.json');
    await writeFile(join(dir, 'retimuad.readings-3.json'), JSON.stringify(snap('5', { partition: 4 })));
    await expect(s.load('retimuad.readings', 3)).rejects.toThrow(/expected version 1 for retimuad.readings\[3\]/);
  });
});
