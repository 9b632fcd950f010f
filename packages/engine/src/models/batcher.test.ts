import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.ts';
import { ModelError } from './errors.ts';

/** A stand-in with the model interface (the batcher's contract, not an integration): output = input·2 + item count. */
function doubler(itemSize: number, opts: { failOn?: number; gate?: Promise<void> } = {}) {
  const calls: number[] = [];
  return {
    calls,
    spec: { id: 'doubler' },
    itemSize,
    async run(batch: Float32Array, count: number) {
      calls.push(count);
      if (opts.gate) await opts.gate;
      if (opts.failOn !== undefined && batch.subarray(0, count * itemSize).includes(opts.failOn))
        throw new Error('boom');
      const data = new Float32Array(count * itemSize);
      for (let i = 0; i < count * itemSize; i++) data[i] = (batch[i] ?? 0) * 2 + count;
      return { data, itemShape: [itemSize] };
    },
  };
}

describe('batcher', () => {
  it('gathers concurrent items into batches of at most batchMax and routes each output to its caller', async () => {
    const m = doubler(3);
    const b = createBatcher(m, { batchMax: 8, capacity: 100, flushMs: 0 });
    const items = Array.from({ length: 21 }, (_, i) => Float32Array.from([i, i + 0.5, -i]));
    const outs = await Promise.all(items.map((x) => b.submit(x)));
    expect(m.calls.every((c) => c <= 8)).toBe(true);
    expect(m.calls.reduce((a, c) => a + c, 0)).toBe(21);
    expect(m.calls.length).toBeLessThanOrEqual(4);
    outs.forEach((o, i) => {
      const k = o[0]! - 2 * i; // the batch size it ran in
      expect(Array.from(o)).toEqual([2 * i + k, 2 * i + 1 + k, -2 * i + k]);
    });
    expect(b.stats.items).toBe(21);
  });

  it('runs a lone item without waiting for a full batch', async () => {
    const m = doubler(1);
    const b = createBatcher(m, { batchMax: 64, capacity: 64, flushMs: 5 });
    expect(Array.from(await b.submit(Float32Array.of(4)))).toEqual([9]);
    expect(m.calls).toEqual([1]);
  });

  it('makes callers wait when the queue is full (bounded memory)', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const m = doubler(1, { gate });
    const b = createBatcher(m, { batchMax: 2, capacity: 3, flushMs: 0 });
    const done: number[] = [];
    const all = Array.from({ length: 10 }, (_, i) => b.submit(Float32Array.of(i)).then(() => done.push(i)));
    await new Promise((r) => setTimeout(r, 20));
    // one batch of 2 is running (blocked), 3 wait in the queue, the rest wait for room
    expect(b.stats.peakQueued).toBeLessThanOrEqual(3);
    expect(done).toEqual([]);
    open();
    await Promise.all(all);
    expect(done.length).toBe(10);
    expect(b.stats.peakQueued).toBeLessThanOrEqual(3);
  });

  it('fails only the batch whose run failed, and refuses items of the wrong size', async () => {
    const m = doubler(1, { failOn: 13 });
    const b = createBatcher(m, { batchMax: 1, capacity: 10, flushMs: 0 });
    await expect(b.submit(Float32Array.of(13))).rejects.toThrow('boom');
    expect(Array.from(await b.submit(Float32Array.of(1)))).toEqual([3]);
    await expect(b.submit(Float32Array.of(1, 2))).rejects.toThrow(/2 floats, the model takes 1/);
  });

  it('close rejects what still waits with E_MODEL_CLOSED', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const b = createBatcher(doubler(1, { gate }), { batchMax: 1, capacity: 10, flushMs: 0 });
    const first = b.submit(Float32Array.of(1));
    const second = b.submit(Float32Array.of(2));
    await new Promise((r) => setTimeout(r, 5));
    const closing = b.close();
    open();
    await closing;
    expect(Array.from(await first)).toEqual([3]);
    await expect(second).rejects.toMatchObject({ code: 'E_MODEL_CLOSED' });
    await expect(b.submit(Float32Array.of(3))).rejects.toBeInstanceOf(ModelError);
  });
});
