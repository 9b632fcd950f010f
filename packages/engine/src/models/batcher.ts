/**
 * Batched asynchronous inference with a bounded queue: callers submit one item and await its
 * output; items are gathered into batches of up to `batchMax` and run one batch at a time. At most
 * `capacity` items are queued for the model; later submitters wait, first come first served, and
 * since the pipeline awaits each derive, a slow model holds back its bounded queue and from there
 * the sources (backpressure) instead of growing memory.
 * A partial batch runs after `flushMs` (0: as soon as the current turn of the event loop has
 * submitted what it will), so a lone item is never stuck waiting for company.
 *
 * @example
 * const b = createBatcher(model, { batchMax: 64, capacity: 1024, flushMs: 0 });
 * const out = await b.submit(window);   // this item's output floats
 */
import { ModelError } from './errors.ts';
import type { LoadedModel } from './session.ts';

export interface BatcherOptions {
  batchMax: number;
  capacity: number;
  flushMs: number;
}

export interface BatcherStats {
  batches: number;
  items: number;
  /** Largest number of items waiting at once. */
  peakQueued: number;
}

export interface Batcher {
  submit(item: Float32Array): Promise<Float32Array>;
  /** Items waiting or running. */
  readonly queued: number;
  readonly stats: BatcherStats;
  /** Rejects everything still waiting with E_MODEL_CLOSED and waits for the running batch. */
  close(): Promise<void>;
}

interface Job {
  input: Float32Array;
  resolve(out: Float32Array): void;
  reject(err: unknown): void;
}

/** A FIFO with O(1) amortised removal from the front (Array#shift is O(n)). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined as T; // let it be collected
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

export function createBatcher(
  model: Pick<LoadedModel, 'itemSize' | 'run'> & { spec: { id: string } },
  opts: BatcherOptions,
): Batcher {
  const { batchMax, capacity, flushMs } = opts;
  if (!(batchMax >= 1 && capacity >= 1 && flushMs >= 0))
    throw new RangeError(
      `batcher: need batchMax ≥ 1, capacity ≥ 1, flushMs ≥ 0, got ${batchMax}, ${capacity}, ${flushMs}`,
    );
  const size = model.itemSize;
  /** Items admitted for the model (at most `capacity`). */
  const queue = new Fifo<Job>();
  /** Submitters waiting for room, first come first served. */
  const waiting = new Fifo<Job>();
  const buffer = new Float32Array(batchMax * size);
  const jobs: Job[] = [];
  let running: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let immediate: ReturnType<typeof setImmediate> | undefined;
  let closed = false;
  const stats: BatcherStats = { batches: 0, items: 0, peakQueued: 0 };

  function admit(): void {
    while (queue.length < capacity && waiting.length > 0) queue.push(waiting.shift()!);
    if (queue.length > stats.peakQueued) stats.peakQueued = queue.length;
  }

  function schedule(): void {
    if (running !== undefined || queue.length === 0) return;
    if (queue.length >= batchMax) {
      start();
      return;
    }
    if (flushMs === 0) {
      immediate ??= setImmediate(start);
    } else {
      timer ??= setTimeout(start, flushMs);
    }
  }

  function start(): void {
    if (timer !== undefined) clearTimeout(timer);
    if (immediate !== undefined) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
    if (running !== undefined || queue.length === 0) return;
    running = loop().finally(() => {
      running = undefined;
      schedule();
    });
  }

  async function loop(): Promise<void> {
    // Keep running full batches while they are available; a partial one waits for schedule().
    do {
      jobs.length = 0;
      while (jobs.length < batchMax && queue.length > 0) jobs.push(queue.shift()!);
      for (let i = 0; i < jobs.length; i++) buffer.set(jobs[i]!.input, i * size);
      admit();
      const n = jobs.length;
      try {
        const { data } = await model.run(buffer, n);
        const per = data.length / n;
        stats.batches++;
        stats.items += n;
        for (let i = 0; i < n; i++) jobs[i]!.resolve(data.slice(i * per, (i + 1) * per));
      } catch (err) {
        for (let i = 0; i < n; i++) jobs[i]!.reject(err);
      }
    } while (queue.length >= batchMax && !closed);
  }

  return {
    submit(item) {
      if (item.length !== size)
        return Promise.reject(
          new ModelError(
            'E_MODEL_INPUT',
            `model ${model.spec.id}: an item has ${item.length} floats, the model takes ${size}`,
          ),
        );
      if (closed)
        return Promise.reject(new ModelError('E_MODEL_CLOSED', `model ${model.spec.id}: the stage is closed`));
      return new Promise<Float32Array>((resolve, reject) => {
        const job = { input: item, resolve, reject };
        // When full, or while others already wait, the newcomer waits behind them for room.
        if (queue.length >= capacity || waiting.length > 0) {
          waiting.push(job);
          return;
        }
        queue.push(job);
        if (queue.length > stats.peakQueued) stats.peakQueued = queue.length;
        schedule();
      });
    },
    get queued() {
      return queue.length + waiting.length + (running !== undefined ? jobs.length : 0);
    },
    stats,
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      const err = new ModelError('E_MODEL_CLOSED', `model ${model.spec.id}: the stage closed before this item ran`);
      for (const j of queue.drain()) j.reject(err);
      for (const j of waiting.drain()) j.reject(err);
      await running;
    },
  };
}
