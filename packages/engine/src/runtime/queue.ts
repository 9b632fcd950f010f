/**
 * A bounded FIFO queue with backpressure: `push` waits while the queue is full, `take`
 * waits while it is empty. Closing wakes everyone; `take` then drains what is left and
 * returns undefined.
 *
 * @example
 * const q = new BoundedQueue<Event>(10_000);
 * await q.push(e);           // producer (blocks when full)
 * const next = await q.take(); // consumer
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  private closed = false;
  private readonly spaceWaiters: Array<() => void> = [];
  private itemWaiter: (() => void) | undefined;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async push(item: T): Promise<void> {
    while (this.size >= this.capacity && !this.closed) {
      await new Promise<void>((r) => this.spaceWaiters.push(r));
    }
    if (this.closed) throw new Error('queue closed');
    this.items.push(item);
    const w = this.itemWaiter;
    this.itemWaiter = undefined;
    w?.();
  }

  /** Takes the next item, waiting up to `timeoutMs` (undefined on timeout or when closed and empty). */
  async take(timeoutMs: number): Promise<T | undefined> {
    if (this.size === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.itemWaiter = undefined;
          resolve();
        }, timeoutMs);
        this.itemWaiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    if (this.size === 0) return undefined;
    const item = this.items[this.head] as T;
    this.head++;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    const s = this.spaceWaiters.shift();
    s?.();
    return item;
  }

  /** Takes without waiting. */
  poll(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head] as T;
    this.head++;
    const s = this.spaceWaiters.shift();
    s?.();
    return item;
  }

  close(): void {
    this.closed = true;
    for (const w of this.spaceWaiters.splice(0)) w();
    const w = this.itemWaiter;
    this.itemWaiter = undefined;
    w?.();
  }
}
