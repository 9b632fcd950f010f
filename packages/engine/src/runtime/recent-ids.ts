/**
 * The last N event ids seen, for refusing duplicates in O(1) per event: a map from id to arrival
 * number plus a ring of ids in arrival order. Evicts exactly like a Set trimmed to its N newest
 * insertions, without creating an iterator per event to find the oldest.
 *
 * @example
 * const ids = new RecentIds(100_000);
 * if (!ids.add(e.id)) refuse(e); // already among the last 100,000 ids
 */
export class RecentIds {
  private readonly seq = new Map<string, number>();
  private readonly ring: string[] = [];
  private count = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new RangeError(`RecentIds capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.seq.size;
  }

  has(id: string): boolean {
    return this.seq.has(id);
  }

  /** Adds an id; false (and nothing changes) if it is already among the last `capacity` ids. */
  add(id: string): boolean {
    if (this.seq.has(id)) return false;
    const n = this.count++;
    const slot = n % this.capacity;
    if (n >= this.capacity) {
      // An id evicted earlier and added again sits in two slots: only its current one removes it.
      const oldest = this.ring[slot]!;
      if (this.seq.get(oldest) === n - this.capacity) this.seq.delete(oldest);
    }
    this.seq.set(id, n);
    this.ring[slot] = id;
    return true;
  }
}
