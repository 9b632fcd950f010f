import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecords, openOutbox, withSpillDir, type OutboxParams } from './outbox.ts';
import { memoryLogger } from './testing.ts';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'outbox-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function params(dir: string, over: Partial<OutboxParams> = {}): OutboxParams {
  return {
    spill_dir: dir,
    buffer_max_events: 10,
    max_spill_bytes: 10_000_000,
    retry_initial_backoff_ms: 1,
    retry_max_backoff_ms: 4,
    drain_timeout_ms: 1000,
    spill_fsync: false,
    ...over,
  };
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const segmentsIn = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith('seg-'));

describe('withSpillDir', () => {
  it('puts the spill directory under the data directory, spill/<id> by default', () => {
    const dataPath = (p: string): string => (p.startsWith('/') ? p : `/data/${p}`);
    expect(withSpillDir('tsdb', { url: 'http://x' }, dataPath)).toEqual({
      url: 'http://x',
      spill_dir: '/data/spill/tsdb',
    });
    expect(withSpillDir('tsdb', { spill_dir: 'q' }, dataPath)).toEqual({ spill_dir: '/data/q' });
    expect(withSpillDir('tsdb', { spill_dir: '/var/q' }, dataPath)).toEqual({ spill_dir: '/var/q' });
  });
});

describe('record encoding', () => {
  it('round-trips and stops at a torn tail or a flipped byte', () => {
    const buf = encodeRecords([{ a: 1 }, 'x', [2, 3]]);
    expect(decodeRecords(buf).items).toEqual([{ a: 1 }, 'x', [2, 3]]);
    const torn = decodeRecords(buf.subarray(0, buf.length - 2));
    expect(torn.items).toEqual([{ a: 1 }, 'x']);
    const flipped = Buffer.from(buf);
    flipped[10] = (flipped[10] ?? 0) ^ 0xff; // inside the first payload
    expect(decodeRecords(flipped).items).toEqual([]);
  });
});

describe('outbox', () => {
  it('delivers in order while the server is up, keeping memory within buffer_max_events by spilling', async () => {
    const dir = await tmp();
    const got: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const box = await openOutbox<number>(params(dir, { buffer_max_events: 10 }), {
      id: 't',
      logger: memoryLogger().logger,
      chunkMaxEvents: 5,
      deliver: async (xs) => {
        await gate; // a slow server: everything queues behind the first chunk
        got.push(...xs);
      },
    });
    for (let i = 0; i < 100; i += 5) await box.write(range(i, 5));
    const during = box.stats();
    expect(during.buffered).toBeLessThanOrEqual(10);
    expect(during.spilledEvents).toBeGreaterThanOrEqual(80);
    expect(await segmentsIn(dir)).not.toHaveLength(0);
    open();
    await box.idle();
    expect(got).toEqual(range(0, 100));
    const s = box.stats();
    expect(s).toMatchObject({ delivered: 100, buffered: 0, spilledEvents: 0, spilledBytes: 0, dropped: 0 });
    expect(s.maxBuffered).toBeLessThanOrEqual(15); // the bound plus one write
    await box.close();
    expect(await segmentsIn(dir)).toEqual([]);
  });

  it('property: any pattern of failures delivers every item exactly once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 20 }),
        async (writes, failPattern, bufferMax, chunkMax, deliverMax) => {
          const dir = await tmp();
          const got: number[] = [];
          let call = 0;
          const box = await openOutbox<number>(params(dir, { buffer_max_events: bufferMax }), {
            id: 'p',
            logger: memoryLogger().logger,
            chunkMaxEvents: chunkMax,
            deliverMaxEvents: deliverMax,
            segmentMaxBytes: 64, // many segments: exercises rolling and deleting
            deliver: (xs) => {
              const fail = failPattern[call++ % failPattern.length] === true && call < 200;
              if (fail) return Promise.reject(new Error('down'));
              got.push(...xs);
              return Promise.resolve();
            },
          });
          let next = 0;
          for (const n of writes) {
            await box.write(range(next, n));
            next += n;
          }
          await box.idle();
          await box.close();
          expect(got).toEqual(range(0, next));
          expect(box.stats()).toMatchObject({
            delivered: next,
            dropped: 0,
            deadLettered: 0,
            buffered: 0,
            spilledEvents: 0,
          });
          expect(await segmentsIn(dir)).toEqual([]);
          await rm(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps what it could not deliver on disk at close, and the next start delivers it in order', async () => {
    const dir = await tmp();
    const first = await openOutbox<number>(params(dir, { spill_fsync: true }), {
      id: 'r',
      logger: memoryLogger().logger,
      deliver: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    for (let i = 0; i < 50; i += 7) await first.write(range(i, 7));
    await first.close();
    expect(first.stats().delivered).toBe(0);
    expect(first.stats().spilledEvents).toBe(56);
    expect(await segmentsIn(dir)).not.toHaveLength(0);

    const got: number[] = [];
    const second = await openOutbox<number>(params(dir), {
      id: 'r',
      logger: memoryLogger().logger,
      deliver: (xs) => {
        got.push(...xs);
        return Promise.resolve();
      },
    });
    expect(second.stats().recovered).toBe(56);
    await second.write([1000]);
    await second.idle();
    await second.close();
    expect(got).toEqual([...range(0, 56), 1000]);
    expect(await segmentsIn(dir)).toEqual([]);
  });

  it('after a crash mid-append, skips the torn tail with a count and delivers the rest', async () => {
    const dir = await tmp();
    const crashed = await openOutbox<number>(params(dir), {
      id: 'c',
      logger: memoryLogger().logger,
      deliver: () => Promise.reject(new Error('down')),
    });
    await crashed.write(range(0, 5));
    // Wait until the failure spilled everything, then "crash": never close it.
    while (crashed.stats().spilledEvents < 5) await new Promise((r) => setTimeout(r, 2));
    const [seg] = await segmentsIn(dir);
    const torn = encodeRecords([999]).subarray(0, 6); // a header cut short
    await appendFile(join(dir, seg ?? ''), torn);
    await writeFile(join(dir, 'seg-9999999999999999.log'), encodeRecords([12345]).subarray(0, 9)); // length says more than is there

    const got: number[] = [];
    const { logger, lines } = memoryLogger();
    const next = await openOutbox<number>(params(dir), {
      id: 'c',
      logger,
      deliver: (xs) => {
        got.push(...xs);
        return Promise.resolve();
      },
    });
    expect(next.stats()).toMatchObject({ recovered: 5, tornRecords: 2, tornBytes: 6 + 9 });
    expect(lines.some((l) => l.msg.includes('torn'))).toBe(true);
    await next.idle();
    expect(got).toEqual(range(0, 5));
    await next.close();
    await crashed.close();
  });

  it('sends records to the dead letters with a reason when the spill budget is full, and counts them', async () => {
    const dir = await tmp();
    const dead: Array<{ items: readonly number[]; reason: string }> = [];
    const box = await openOutbox<number>(params(dir, { buffer_max_events: 2, max_spill_bytes: 1024 }), {
      id: 'f',
      logger: memoryLogger().logger,
      chunkMaxEvents: 2,
      deliver: () => Promise.reject(new Error('down')),
      onDeadLetter: (items, reason) => void dead.push({ items, reason }),
    });
    for (let i = 0; i < 400; i += 2) await box.write(range(i, 2));
    const s = box.stats();
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.spilledBytes).toBeLessThanOrEqual(1024);
    expect(s.buffered).toBeLessThanOrEqual(4);
    expect(dead[0]?.reason).toMatch(/^spill_full: max_spill_bytes 1024 reached/);
    expect(dead.reduce((n, d) => n + d.items.length, 0)).toBe(s.dropped);
    // Everything is accounted for: waiting, in flight (at most one chunk) or dead-lettered.
    expect(s.spilledEvents + s.buffered + s.dropped).toBeGreaterThanOrEqual(398);
    await box.close();
  });

  it('dead-letters a chunk the sink calls permanently refused and goes on with the next', async () => {
    const dir = await tmp();
    const got: number[] = [];
    const dead: string[] = [];
    const box = await openOutbox<number>(params(dir), {
      id: 'x',
      logger: memoryLogger().logger,
      chunkMaxEvents: 1,
      deliver: (xs) => (xs[0] === 2 ? Promise.reject(new Error('HTTP 400')) : (got.push(...xs), Promise.resolve())),
      permanent: (err) => `refused: ${(err as Error).message}`,
      onDeadLetter: (items, reason) => void dead.push(`${items.join(',')} ${reason}`),
    });
    await box.write(range(0, 4));
    await box.idle();
    await box.close();
    expect(got).toEqual([0, 1, 3]);
    expect(dead).toEqual(['2 refused: HTTP 400']);
    expect(box.stats()).toMatchObject({ deadLettered: 1, dropped: 0, delivered: 3 });
    await expect(box.write([5])).rejects.toMatchObject({ code: 'E_OUTBOX_CLOSED' });
  });

  it('exports its figures to a Prometheus registry, one series per component', async () => {
    const registry = new Registry();
    const boxes = await Promise.all(
      ['a', 'b'].map(async (id) =>
        openOutbox<number>(params(await tmp()), {
          id,
          logger: memoryLogger().logger,
          registry,
          deliver: () => Promise.resolve(),
        }),
      ),
    );
    await boxes[0]?.write(range(0, 3));
    await boxes[1]?.write(range(0, 2));
    await Promise.all(boxes.map((b) => b.idle()));
    const text = await registry.metrics();
    expect(text).toContain('retimuad_outbox_delivered_total{component="a"} 3');
    expect(text).toContain('retimuad_outbox_delivered_total{component="b"} 2');
    expect(text).toContain('retimuad_outbox_buffered_events{component="a"} 0');
    expect(text).toContain('retimuad_outbox_dropped_total{component="b"} 0');
    await Promise.all(boxes.map((b) => b.close()));
  });
});
