/**
 * A worker: one member of a Kafka consumer group that runs the Processor (detectors and
 * correlator) over the topic-partitions the group assigns it, and writes anomalies, incidents and
 * dead letters to its sinks.
 *
 * State is kept per partition NUMBER (a task with its own Processor): partition p of every
 * consumed topic (readings, logs, audio, images; co-partitioned, kafka/topics.ts) feeds one
 * Processor, so a pump's audio anomaly and its vibration anomaly meet in one correlator. The
 * topics' records are merged in (event time, topic, offset) order (merge.ts), so a replay after a
 * failover interleaves them as the first run did. Partitioning by site/asset (or stage, or site)
 * makes the keys of two partitions disjoint, so a partition's state can move to another member on
 * its own. A checkpoint, for every task that moved:
 *   1. writes the task's pending output to the sinks (acknowledged),
 *   2. saves the task's state together with the next offset of every topic-partition it covers (durable),
 *   3. only then commits those offsets to the group.
 * Records the merge still holds are in neither; a successor fetches them again.
 * A member that dies between 1 and 3 leaves output that its successor produces again, identically
 * (same input, same restored state, deterministic ids): readers de-duplicate incidents by
 * id + revision, which the compacted incidents topic does by itself. Records below a snapshot's
 * offset are skipped, so a commit lost after step 2 does not apply a record twice.
 *
 * Event time drives everything (ticks once per second of a partition's event time); the wall
 * clock only paces checkpoints and bounds the merge's waits (merge.ts: the one place where a
 * silent topic can make a replay differ), so replaying a partition gives the same output.
 *
 * @example
 * const w = new Worker({ kafka, topics: ['retimuad.readings', 'retimuad.audio'], groupId: 'detectors', detectors, correlator, sinks, store, logger });
 * const done = w.run();     // until stop()
 * await w.stop();           // final checkpoint, leave the group
 */
import type { Logger } from 'pino';
import type { CorrelatorParams } from '../../../core/src/correlator/index.ts';
import { decodeEvent } from '../../../core/src/schema/validate.ts';
import type { DetectorConfig } from '../config/load.ts';
import type { KafkaAssignment, KafkaClient, KafkaRecordIn, KafkaSubscription } from '../kafka/client.ts';
import { Processor } from '../runtime/processor.ts';
import { systemClock, type Clock, type Sink, type SinkRecord } from '../runtime/types.ts';
import type { Event } from '../../../core/src/schema/events.ts';
import { TopicMerge } from './merge.ts';
import { PARTITION_SNAPSHOT_VERSION, type PartitionStateStore, type TopicProgress } from './state-store.ts';
import { decodeReadingFast, NameCache } from './fast-decode.ts';

export interface WorkerOptions {
  kafka: KafkaClient;
  /** Full topic names to consume (e.g. the layout's readings and logs topics). */
  topics: readonly string[];
  groupId: string;
  detectors: DetectorConfig[];
  correlator: CorrelatorParams;
  sinks: Sink[];
  store: PartitionStateStore;
  logger: Logger;
  /** Site for records that carry none. */
  site?: string;
  clock?: Clock;
  /** Checkpoint at least this often while records flow; default 1000. */
  checkpoint_interval_ms?: number;
  /** ... and after this many records; default 50 000. */
  checkpoint_every_records?: number;
  /** Flush output to sinks between checkpoints beyond this many pending records; default 5000. */
  batch_max?: number;
  /** ... and at least this often (output latency; at-least-once, so flushing early is safe); default 50. */
  flush_interval_ms?: number;
  /** Decode plain readings through the fast path (fast-decode.ts); default true. The benchmark turns it off for its "before" peer. */
  fast_decode?: boolean;
  /** Merge across topics (merge.ts): longest a record waits for the partition's other topics, ms; default 500. */
  merge_wait_ms?: number;
  /** ... and a topic silent this long stops holding the others back, ms; default 5000. */
  merge_idle_ms?: number;
  /** Observability hook: assignment changes, restores, checkpoints (the CLI prints them as JSON lines). */
  onStatus?: (status: WorkerStatus) => void;
  /**
   * Called at each step boundary inside a checkpoint. A crash test uses it to die exactly there
   * (see RETIMUAD_WORKER_FAILPOINT in command.ts); it must not throw.
   */
  onCheckpointStep?: (step: CheckpointStep) => void;
}

/** The boundaries inside a checkpoint: output acknowledged, one task's state saved, one task's offset committed. */
export type CheckpointStep = 'output-written' | 'state-saved' | 'offset-committed';

export type WorkerStatus =
  /** join_ms: from joining the group (subscribe) to this assignment; the first one is the join time. */
  | { event: 'assigned'; generation: number; member: string; partitions: string[]; join_ms: number }
  | { event: 'restored'; task: string; next_offset: string | null }
  | { event: 'checkpoint'; tasks: number; records: number }
  | { event: 'stopped'; processed: number };

/** Decoded on arrival (the merge needs the event time); a dead letter carries its reason instead. */
type Arrived =
  { rec: KafkaRecordIn; event: Event; reason?: undefined } | { rec: KafkaRecordIn; event?: undefined; reason: string };

/** Where one topic-partition of a task stands. */
interface Progress {
  /** Next offset to process; undefined until the first record of a topic-partition with no snapshot. */
  next: bigint | undefined;
  /** Next offset expected from the broker (records below it were already buffered or processed). */
  fetched: bigint | undefined;
  /** Merge key of the last processed record (saved as last_time). */
  lastKey: number | undefined;
  /** The last processed record (its commit() commits up to it), when not yet committed. */
  uncommitted: KafkaRecordIn | undefined;
}

/** One partition number: that partition of every consumed topic, one Processor. */
interface Task {
  partition: number;
  processor: Processor;
  merge: TopicMerge<Arrived>;
  progress: Map<string, Progress>;
  /** Snapshot entries of topics that are not (or not yet) members, written back unchanged. */
  restored: Map<string, TopicProgress>;
  lastTick: number;
  pending: SinkRecord[];
  /** Processed since the last checkpoint. */
  dirty: boolean;
}

const MAX_RAW = 8192;
const taskKey = (topic: string, partition: number) => `${topic}[${partition}]`;

async function* oneByOne(sub: AsyncIterable<KafkaRecordIn>): AsyncIterable<KafkaRecordIn[]> {
  for await (const r of sub) yield [r];
}

export class Worker {
  private readonly tasks = new Map<number, Task>();
  private assigned = new Set<string>();
  private generation = -1;
  private member = '';
  private joinStarted = 0;
  private reassigned = false;
  private sub: KafkaSubscription | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private sinceCheckpoint = 0;
  private lastFlush = 0;
  private lastCheckpoint = 0;
  /** Wall time of the batch being handled (one clock read per batch, not per record). */
  private now = 0;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly names = new NameCache();
  private readonly mergeOptions: { wait_ms: number; idle_ms: number };
  processed = 0;

  constructor(private readonly o: WorkerOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger.child({ component: 'worker', group: o.groupId });
    this.mergeOptions = { wait_ms: o.merge_wait_ms ?? 500, idle_ms: o.merge_idle_ms ?? 5000 };
  }

  /** Partitions owned now, as "topic[p]". */
  get partitions(): string[] {
    return [...this.assigned].sort();
  }

  /** Consumes until stop(); resolves after the final checkpoint. */
  async run(): Promise<void> {
    this.joinStarted = this.clock.now();
    this.sub = await this.o.kafka.subscribe({
      topics: this.o.topics,
      groupId: this.o.groupId,
      from: 'committed',
      max_wait_ms: 100,
      session_timeout_ms: 6000,
      onAssignment: (a) => this.onAssignment(a),
    });
    this.lastCheckpoint = this.clock.now();
    // Batches: every record already fetched at once (one promise per batch, not per record).
    const it = (this.sub.batches?.(1000) ?? oneByOne(this.sub))[Symbol.asyncIterator]();
    const interval = this.o.checkpoint_interval_ms ?? 1000;
    const everyRecords = this.o.checkpoint_every_records ?? 50_000;
    const batchMax = this.o.batch_max ?? 5000;
    const flushEvery = Math.min(this.o.flush_interval_ms ?? 50, interval);
    let next: Promise<IteratorResult<KafkaRecordIn[]>> | undefined;
    // One timer per flush period, shared by every record that arrives meanwhile.
    let tick: Promise<undefined> | undefined;
    try {
      while (!this.stopping) {
        next ??= it.next();
        tick ??= this.timeout(flushEvery).then(() => (tick = undefined));
        const got = await Promise.race([next, tick]);
        this.now = this.clock.now();
        if (got !== undefined) {
          next = undefined;
          if (got.done === true) break;
          for (const rec of got.value) {
            if (this.reassigned) this.applyAssignment();
            const starting = this.handle(rec);
            if (starting !== undefined) await starting;
          }
          if (this.pendingCount() >= batchMax) await this.flushOutput();
        }
        // Records held by the merge whose wait is over, or whose silent peers went idle.
        for (const t of this.tasks.values()) this.drain(t);
        if (this.clock.now() - this.lastFlush >= flushEvery) await this.flushOutput();
        if (
          this.sinceCheckpoint >= everyRecords ||
          (this.sinceCheckpoint > 0 && this.clock.now() - this.lastCheckpoint >= interval)
        ) {
          await this.checkpoint();
        }
      }
      if (this.reassigned) this.applyAssignment();
      await this.checkpoint();
    } finally {
      await this.sub.close().catch((err: unknown) => this.log.warn({ err }, 'closing the subscription failed'));
      this.o.onStatus?.({ event: 'stopped', processed: this.processed });
    }
  }

  /** Asks run() to finish: a last checkpoint, then it leaves the group. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Records held by the cross-topic merge, not yet processed. */
  get held(): number {
    let n = 0;
    for (const t of this.tasks.values()) n += t.merge.buffered;
    return n;
  }

  private timeout(ms: number): Promise<undefined> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(undefined), ms);
      this.wake = () => {
        clearTimeout(t);
        resolve(undefined);
      };
    });
  }

  private onAssignment(a: KafkaAssignment): void {
    this.generation = a.generation;
    this.member = a.memberId;
    this.assigned = new Set(a.partitions.flatMap((t) => t.partitions.map((p) => taskKey(t.topic, p))));
    this.reassigned = true;
    this.log.info({ generation: a.generation, partitions: this.partitions }, 'partitions assigned');
    this.o.onStatus?.({
      event: 'assigned',
      generation: a.generation,
      member: a.memberId,
      partitions: this.partitions,
      join_ms: this.clock.now() - this.joinStarted,
    });
  }

  /** The consumed topics whose partition p this member owns, sorted. */
  private memberTopics(partition: number): string[] {
    return this.o.topics.filter((topic) => this.assigned.has(taskKey(topic, partition))).sort();
  }

  /**
   * Drops tasks of partitions we lost, with their unflushed output, held records and uncommitted
   * progress: the new owner restores the last checkpoint and produces that output again. With the
   * co-partitioning assignor a partition number moves with all its topics; if only some move
   * (topics not co-partitioned), the remaining ones keep the task and a warning says so.
   */
  private applyAssignment(): void {
    this.reassigned = false;
    for (const [p, t] of this.tasks) {
      const now = this.memberTopics(p);
      if (now.length === 0) {
        this.log.info({ partition: p, topics: t.merge.topics }, 'partition revoked; state dropped');
        this.tasks.delete(p);
        continue;
      }
      for (const topic of t.merge.topics) {
        if (now.includes(topic)) continue;
        this.log.warn(
          { task: taskKey(topic, p) },
          'topic-partition revoked without its co-partitions; held records dropped',
        );
        t.merge.removeTopic(topic);
        t.progress.delete(topic);
      }
      for (const topic of now) if (!t.merge.has(topic)) this.addMember(t, topic);
    }
  }

  private addMember(t: Task, topic: string): void {
    const r = t.restored.get(topic);
    t.restored.delete(topic);
    const next = r === undefined ? undefined : BigInt(r.next_offset);
    const lastKey = r?.last_time ?? undefined;
    t.progress.set(topic, { next, fetched: next, lastKey, uncommitted: undefined });
    t.merge.addTopic(topic, lastKey, this.now);
    this.o.onStatus?.({ event: 'restored', task: taskKey(topic, t.partition), next_offset: next?.toString() ?? null });
  }

  private async task(partition: number): Promise<Task> {
    let t = this.tasks.get(partition);
    if (t !== undefined) return t;
    const processor = new Processor(this.o.detectors, this.o.correlator);
    const snap = await this.o.store.load(partition);
    t = {
      partition,
      processor,
      merge: new TopicMerge<Arrived>(this.mergeOptions),
      progress: new Map(),
      restored: new Map(snap?.topics.map((x) => [x.topic, x]) ?? []),
      lastTick: 0,
      pending: [],
      dirty: false,
    };
    if (snap !== undefined) {
      processor.restore(snap.processor);
      t.lastTick = snap.last_tick;
    }
    this.tasks.set(partition, t);
    this.log.info(
      { partition, topics: snap?.topics ?? [] },
      snap === undefined ? 'partition started fresh' : 'partition state restored',
    );
    for (const topic of this.memberTopics(partition)) this.addMember(t, topic);
    return t;
  }

  /** Synchronous for a running task; returns a promise only when the partition's state must be loaded first. */
  private handle(rec: KafkaRecordIn): Promise<void> | undefined {
    if (!this.assigned.has(taskKey(rec.topic, rec.partition))) return undefined; // fetched before a rebalance took it away
    const t = this.tasks.get(rec.partition);
    if (t === undefined) return this.task(rec.partition).then((nt) => this.arrive(nt, rec));
    this.arrive(t, rec);
    return undefined;
  }

  /** Decodes a record and hands it to the partition's merge, then processes whatever the merge releases. */
  private arrive(t: Task, rec: KafkaRecordIn): void {
    if (!t.merge.has(rec.topic)) this.addMember(t, rec.topic);
    const pr = t.progress.get(rec.topic)!;
    if (pr.fetched !== undefined && rec.offset < pr.fetched) return; // already in the restored state (or held)
    if (pr.fetched !== undefined && rec.offset > pr.fetched) {
      this.log.warn(
        { task: taskKey(rec.topic, rec.partition), expected: pr.fetched.toString(), got: rec.offset.toString() },
        'offset gap',
      );
    }
    pr.fetched = rec.offset + 1n;
    const a = this.decode(rec);
    t.merge.push(rec.topic, rec.offset, a.event?.time, a, this.now);
    this.drain(t);
  }

  private decode(rec: KafkaRecordIn): Arrived {
    let raw: unknown;
    try {
      raw = JSON.parse(rec.value.toString('utf8'));
    } catch (err) {
      return { rec, reason: `not JSON: ${(err as Error).message}` };
    }
    const opts = {
      now: rec.timestamp_ms,
      source: 'kafka',
      ...(this.o.site === undefined ? {} : { site: this.o.site }),
    };
    // Plain readings skip most schema work (fast-decode.ts); anything else, or any doubt, takes decodeEvent.
    const fast = this.o.fast_decode === false ? undefined : decodeReadingFast(raw, opts, this.names);
    if (fast !== undefined) return { rec, event: fast };
    const r = decodeEvent(raw, opts);
    return r.ok ? { rec, event: r.event } : { rec, reason: r.reason };
  }

  /** Processes every record the merge releases now, in (event time, topic, offset) order. */
  private drain(t: Task): void {
    for (let h = t.merge.pop(this.now); h !== undefined; h = t.merge.pop(this.now)) this.apply(t, h.item, h.key);
  }

  private apply(t: Task, a: Arrived, key: number): void {
    const rec = a.rec;
    if (a.event === undefined) {
      // Only dead letters need it: built lazily, off the hot path.
      this.deadLetter(t, rec, `kafka ${rec.topic}[${rec.partition}]@${rec.offset}`, a.reason);
    } else {
      t.processor.process(a.event, t.pending);
      const time = t.processor.eventTime;
      if (time - t.lastTick >= 1000) {
        t.processor.advance(time, t.pending);
        t.lastTick = time;
      }
    }
    const pr = t.progress.get(rec.topic)!;
    pr.next = rec.offset + 1n;
    pr.lastKey = key;
    pr.uncommitted = rec;
    t.dirty = true;
    this.processed++;
    this.sinceCheckpoint++;
  }

  private deadLetter(t: Task, rec: KafkaRecordIn, where: string, reason: string): void {
    const text = rec.value.toString('utf8');
    t.pending.push({
      type: 'deadletter',
      deadLetter: {
        // Deterministic, so a replay after a failover rewrites the same dead letter.
        id: `dl-${rec.topic}-${rec.partition}-${rec.offset}`,
        time: rec.timestamp_ms,
        component: 'worker',
        where,
        reason,
        raw: text.length > MAX_RAW ? `${text.slice(0, MAX_RAW)}…[truncated ${text.length - MAX_RAW} chars]` : text,
      },
    });
  }

  private pendingCount(): number {
    let n = 0;
    for (const t of this.tasks.values()) n += t.pending.length;
    return n;
  }

  /** Writes every task's pending output to the sinks; throws if a sink fails (nothing is committed then). */
  private async flushOutput(): Promise<void> {
    this.lastFlush = this.clock.now();
    const batch: SinkRecord[] = [];
    for (const t of this.tasks.values()) {
      for (const r of t.pending) batch.push(r);
      t.pending.length = 0;
    }
    if (batch.length === 0) return;
    for (const sink of this.o.sinks) {
      const mine = batch.filter((r) => sink.accepts.has(r.type));
      if (mine.length > 0) await sink.write(mine);
    }
  }

  /** The snapshot entries of a task: every member that has a position, plus carried restored ones. */
  private progressOf(t: Task): TopicProgress[] {
    const out: TopicProgress[] = [...t.restored.values()];
    for (const [topic, pr] of t.progress) {
      if (pr.next === undefined) continue;
      out.push({ topic, next_offset: pr.next.toString(), last_time: pr.lastKey ?? null });
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  /**
   * Output, then state with the offsets of every topic-partition it covers, then the offset
   * commits: see the module comment. Records still held by the merge are in neither the state nor
   * the commits; a successor fetches them again.
   */
  async checkpoint(): Promise<void> {
    this.lastCheckpoint = this.clock.now();
    const records = this.sinceCheckpoint;
    this.sinceCheckpoint = 0;
    await this.flushOutput();
    this.o.onCheckpointStep?.('output-written');
    const moved = [...this.tasks.values()].filter((t) => t.dirty);
    for (const t of moved) {
      await this.o.store.save({
        version: PARTITION_SNAPSHOT_VERSION,
        partition: t.partition,
        topics: this.progressOf(t),
        last_tick: t.lastTick,
        generation: this.generation,
        member: this.member,
        processor: t.processor.snapshot(),
      });
      this.o.onCheckpointStep?.('state-saved');
    }
    for (const t of moved) {
      t.dirty = false;
      for (const [topic, pr] of t.progress) {
        const rec = pr.uncommitted;
        if (rec === undefined) continue;
        pr.uncommitted = undefined;
        try {
          await rec.commit();
        } catch (err) {
          // Usually a rebalance fenced us off; the snapshot already covers the offset, so the next
          // owner skips what we processed.
          this.log.warn({ err, task: taskKey(topic, t.partition) }, 'offset commit failed');
        }
        this.o.onCheckpointStep?.('offset-committed');
      }
    }
    if (moved.length > 0) this.o.onStatus?.({ event: 'checkpoint', tasks: moved.length, records });
  }
}
