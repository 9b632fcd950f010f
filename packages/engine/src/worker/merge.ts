/**
 * Deterministic event-time merge of one partition number's records across co-partitioned topics
 * (readings[p], logs[p], audio[p], images[p]) into the single stream one Processor consumes.
 *
 * Rule (docs/kafka.md, "Worker"): every record gets a merge key = max(its event time, the key of
 * the previous record of its topic-partition), so keys never decrease within a lane. Records are
 * released in (key, topic, offset) order; the smallest buffered record is released once no other
 * lane can still deliver something that sorts before it, i.e. every other lane either has a
 * buffered record (which sorts after it) or has already delivered a key beyond it. That order
 * depends only on the data, so a replay after a failover, whatever the fetch interleaving, gives
 * the same sequence and the same incidents.
 *
 * Liveness (bounded wait, traded for determinism only when a topic is silent):
 *  - a lane with nothing buffered and no arrival for `idle_ms` (wall clock) does not hold the
 *    others back (a modality with no traffic, e.g. no cameras on this partition);
 *  - a record never waits more than `wait_ms` after its arrival for the other lanes.
 * A record of an excluded lane that then arrives with a key below what was already released is
 * processed at once ("late"); only then can a live run and its replay differ.
 *
 * @example
 * const m = new TopicMerge<string>({ wait_ms: 500, idle_ms: 5000 });
 * m.addTopic('readings', undefined, now); m.addTopic('audio', undefined, now);
 * m.push('audio', 7n, 2000, 'clip', now);
 * m.pop(now);            // undefined: readings may still deliver something at t <= 2000
 * m.push('readings', 3n, 2500, 'flow', now);
 * m.pop(now)?.item;      // 'clip' (2000 < 2500), then pop() is undefined until audio moves past 2500
 */

/** A buffered record with its merge key. */
export interface Held<T> {
  topic: string;
  offset: bigint;
  key: number;
  item: T;
  /** Wall-clock ms of its arrival (for the bounded wait). */
  arrived: number;
}

export interface MergeOptions {
  /** Longest a record waits for the other topics, ms of wall clock. */
  wait_ms: number;
  /** A topic with no arrival for this long (and nothing buffered) stops holding the others back, ms. */
  idle_ms: number;
}

interface Lane<T> {
  topic: string;
  queue: Held<T>[];
  head: number;
  /** Key of the last record that arrived (all later ones sort at or after it); undefined before any. */
  watermark: number | undefined;
  lastArrival: number;
}

/** (key, topic, offset) order. */
function before<T>(a: Held<T>, b: Held<T>): boolean {
  if (a.key !== b.key) return a.key < b.key;
  if (a.topic !== b.topic) return a.topic < b.topic;
  return a.offset < b.offset;
}

export class TopicMerge<T> {
  /** Sorted by topic, so scans are deterministic. */
  private lanes: Lane<T>[] = [];
  private count = 0;

  constructor(private readonly o: MergeOptions) {}

  get topics(): string[] {
    return this.lanes.map((l) => l.topic);
  }

  /** Records buffered, not yet released. */
  get buffered(): number {
    return this.count;
  }

  has(topic: string): boolean {
    return this.lane(topic) !== undefined;
  }

  /** Adds a lane; `watermark` is the key of the last record already processed (from a snapshot). */
  addTopic(topic: string, watermark: number | undefined, now: number): void {
    if (this.has(topic)) return;
    this.lanes.push({ topic, queue: [], head: 0, watermark, lastArrival: now });
    this.lanes.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  /** Removes a lane with its buffered records; returns how many were dropped. */
  removeTopic(topic: string): number {
    const l = this.lane(topic);
    if (l === undefined) return 0;
    this.lanes = this.lanes.filter((x) => x !== l);
    const dropped = l.queue.length - l.head;
    this.count -= dropped;
    return dropped;
  }

  /**
   * Buffers a record of `topic` (offsets must increase within a topic). `time` undefined (an
   * undecodable record) takes the lane's current key. Returns the merge key given.
   */
  push(topic: string, offset: bigint, time: number | undefined, item: T, now: number): number {
    let l = this.lane(topic);
    if (l === undefined) {
      this.addTopic(topic, undefined, now);
      l = this.lane(topic)!;
    }
    const floor = l.watermark ?? Number.NEGATIVE_INFINITY;
    const key = time === undefined ? (l.watermark ?? 0) : Math.max(time, floor);
    l.watermark = key;
    l.lastArrival = now;
    l.queue.push({ topic, offset, key, item, arrived: now });
    this.count++;
    return key;
  }

  /** The next record that may be processed at wall time `now`, removed from the buffer; or undefined. */
  pop(now: number): Held<T> | undefined {
    let best: Held<T> | undefined;
    let from: Lane<T> | undefined;
    for (const l of this.lanes) {
      const h = l.queue[l.head];
      if (h !== undefined && (best === undefined || before(h, best))) {
        best = h;
        from = l;
      }
    }
    if (best === undefined || from === undefined) return undefined;
    if (now - best.arrived < this.o.wait_ms) {
      for (const l of this.lanes) {
        if (l === from || l.head < l.queue.length) continue; // a buffered head sorts after best
        if (now - l.lastArrival >= this.o.idle_ms) continue; // silent: does not hold the others back
        const w = l.watermark;
        // l's next record has a key >= w: it could sort before best unless w is past best.
        if (w === undefined || w < best.key || (w === best.key && l.topic < best.topic)) return undefined;
      }
    }
    from.head++;
    this.count--;
    if (from.head === from.queue.length) {
      from.queue = [];
      from.head = 0;
    } else if (from.head >= 4096) {
      from.queue = from.queue.slice(from.head);
      from.head = 0;
    }
    return best;
  }

  private lane(topic: string): Lane<T> | undefined {
    for (const l of this.lanes) if (l.topic === topic) return l;
    return undefined;
  }
}
