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
  partition: 3,
  topics: [
    { topic: 'retimuad.logs', next_offset: '7', last_time: 900 },
    { topic: 'retimuad.readings', next_offset: next, last_time: 1000 },
  ],
  last_tick: 1000,
  generation: 2,
  member: 'm-1',
  processor: { version: 1, watermark: 1000, detectors: {}, correlator: { version: 1, open: {}, watermark: 1000 } },
  ...over,
});

describe('dir state store', () => {
  it('returns undefined for a partition never saved, and what was saved otherwise', async () => {
    const s = createDirStateStore(join(dir, 'group'));
    expect(await s.load(3)).toBeUndefined();
    expect(await s.save(snap('10'))).toBe(true);
    expect(await s.load(3)).toEqual(snap('10'));
    expect(await s.load(4)).toBeUndefined();
  });

  it('never rolls a partition back to an older offset (a fenced-off member writing late)', async () => {
    const s = createDirStateStore(dir);
    await s.save(snap('100'));
    expect(await s.save(snap('99', { member: 'old' }))).toBe(false);
    expect((await s.load(3))?.topics[1]?.next_offset).toBe('100');
    expect(await s.save(snap('100', { member: 'same-offset' }))).toBe(true);
    // Behind on any one topic it covers is older, even when ahead on another.
    const mixed = snap('200');
    mixed.topics[0] = { topic: 'retimuad.logs', next_offset: '6', last_time: 800 };
    expect(await s.save(mixed)).toBe(false);
  });

  it("answers the version-1 call shape load(topic, partition) with that topic's next_offset", async () => {
    const s = createDirStateStore(dir);
    await s.save(snap('42'));
    expect((await s.load('retimuad.readings', 3))?.next_offset).toBe('42');
    expect((await s.load('retimuad.logs', 3))?.next_offset).toBe('7');
    expect(await s.load('retimuad.audio', 3)).toBeUndefined();
  });

  it('fails with E_STATE_READ naming the file when a snapshot is corrupt or not ours', async () => {
    const s = createDirStateStore(dir);
    await writeFile(join(dir, 'partition-3.json'), '{not json');
    const err = await s.load(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect((err as StateStoreError).code).toBe('E_STATE_READ');
    expect((err as Error).message).toContain('partition-3.json');
    await writeFile(join(dir, 'partition-3.json'), JSON.stringify(snap('5', { partition: 4 })));
    await expect(s.load(3)).rejects.toThrow(/expected version 2 for partition 3/);
    // A version-1 snapshot (one topic, no topics list) is refused by name, not misread.
    await writeFile(
      join(dir, 'partition-3.json'),
      JSON.stringify({ version: 1, topic: 'retimuad.readings', partition: 3, next_offset: '5' }),
    );
    await expect(s.load(3)).rejects.toThrow(/got version 1 for partition 3/);
  });
});
