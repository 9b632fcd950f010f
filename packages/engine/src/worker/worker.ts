/**
 * A worker: one member of a Kafka consumer group that runs the Processor (detectors and
 * correlator) over the topic-partitions the group assigns it, and writes anomalies, incidents and
 * dead letters to its sinks.
 *
 * State is kept per input topic-partition (a task with its own Processor). Partitioning by
 * site/asset (or stage, or site) makes the keys of two partitions disjoint, so a partition's
 * state can move to another member on its own. A checkpoint, for every task that moved:
 *   1. writes the task's pending output to the sinks (acknowledged),
 *   2. saves the task's state together with the next offset it covers (durable),
 *   3. only then commits that offset to the group.
 * A member that dies between 1 and 3 leaves output that its successor produces again, identically
 * (same input, same restored state, deterministic ids): readers de-duplicate incidents by
 * id + revision, which the compacted incidents topic does by itself. Records below a snapshot's
 * offset are skipped, so a commit lost after step 2 does not apply a record twice.
 *
 * Event time drives everything (ticks once per second of a partition's event time); the wall
 * clock only paces checkpoints, so replaying a partition gives the same output.
 *
 * @example
 * const w = new Worker({ kafka, topics: ['retimuad.readings'], groupId: 'detectors', detectors, correlator, sinks, store, logger });
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
import { PARTITION_SNAPSHOT_VERSION, type PartitionStateStore } from './state-store.ts';
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

interface Task {
  topic: string;
  partition: number;
  processor: Processor;
  /** Next offset to process; undefined until the first record of a partition with no snapshot. */
  next: bigint | undefined;
  lastTick: number;
  pending: SinkRecord[];
  /** The last processed record (its commit() commits up to it), when not yet committed. */
  uncommitted: KafkaRecordIn | undefined;
}

const MAX_RAW = 8192;
const taskKey = (topic: string, partition: number) => `${topic}[${partition}]`;

async function* oneByOne(sub: AsyncIterable<KafkaRecordIn>): AsyncIterable<KafkaRecordIn[]> {
  for await (const r of sub) yield [r];
}

export class Worker {
  private readonly tasks = new Map<string, Task>();
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
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly names = new NameCache();
  processed = 0;

  constructor(private readonly o: WorkerOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger.child({ component: 'worker', group: o.groupId });
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

  /**
   * Drops tasks of partitions we lost, with their unflushed output and uncommitted progress:
   * the new owner restores the last checkpoint and produces that output again.
   */
  private applyAssignment(): void {
    this.reassigned = false;
    for (const [k, t] of this.tasks) {
      if (this.assigned.has(k)) continue;
      this.log.info({ task: k, next_offset: t.next?.toString() }, 'partition revoked; state dropped');
      this.tasks.delete(k);
    }
  }

  private async task(topic: string, partition: number): Promise<Task> {
    const k = taskKey(topic, partition);
    let t = this.tasks.get(k);
    if (t !== undefined) return t;
    const processor = new Processor(this.o.detectors, this.o.correlator);
    const snap = await this.o.store.load(topic, partition);
    t = { topic, partition, processor, next: undefined, lastTick: 0, pending: [], uncommitted: undefined };
    if (snap !== undefined) {
      processor.restore(snap.processor);
      t.next = BigInt(snap.next_offset);
      t.lastTick = snap.last_tick;
    }
    this.tasks.set(k, t);
    this.log.info(
      { task: k, next_offset: t.next?.toString() ?? null },
      snap === undefined ? 'partition started fresh' : 'partition state restored',
    );
    this.o.onStatus?.({ event: 'restored', task: k, next_offset: t.next?.toString() ?? null });
    return t;
  }

  /** Synchronous for a running task; returns a promise only when the partition's state must be loaded first. */
  private handle(rec: KafkaRecordIn): Promise<void> | undefined {
    const k = taskKey(rec.topic, rec.partition);
    if (!this.assigned.has(k)) return undefined; // fetched before a rebalance took it away
    const t = this.tasks.get(k);
    if (t === undefined) return this.task(rec.topic, rec.partition).then((nt) => this.apply(nt, rec));
    this.apply(t, rec);
    return undefined;
  }

  private apply(t: Task, rec: KafkaRecordIn): void {
    if (t.next !== undefined && rec.offset < t.next) return; // already in the restored state
    if (t.next !== undefined && rec.offset > t.next) {
      this.log.warn(
        { task: taskKey(t.topic, t.partition), expected: t.next.toString(), got: rec.offset.toString() },
        'offset gap',
      );
    }
    // Only dead letters need it: built lazily, off the hot path.
    const where = () => `kafka ${rec.topic}[${rec.partition}]@${rec.offset}`;
    let raw: unknown;
    try {
      raw = JSON.parse(rec.value.toString('utf8'));
    } catch (err) {
      this.deadLetter(t, rec, where(), `not JSON: ${(err as Error).message}`);
      raw = undefined;
    }
    if (raw !== undefined) {
      const opts = {
        now: rec.timestamp_ms,
        source: 'kafka',
        ...(this.o.site === undefined ? {} : { site: this.o.site }),
      };
      // Plain readings skip most schema work (fast-decode.ts); anything else, or any doubt, takes decodeEvent.
      const fast = this.o.fast_decode === false ? undefined : decodeReadingFast(raw, opts, this.names);
      const r = fast !== undefined ? ({ ok: true, event: fast } as const) : decodeEvent(raw, opts);
      if (!r.ok) this.deadLetter(t, rec, where(), r.reason);
      else {
        t.processor.process(r.event, t.pending);
        const time = t.processor.eventTime;
        if (time - t.lastTick >= 1000) {
          t.processor.advance(time, t.pending);
          t.lastTick = time;
        }
      }
    }
    t.next = rec.offset + 1n;
    t.uncommitted = rec;
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

  /** Output, then state with its offset, then the offset commit: see the module comment. */
  async checkpoint(): Promise<void> {
    this.lastCheckpoint = this.clock.now();
    const records = this.sinceCheckpoint;
    this.sinceCheckpoint = 0;
    await this.flushOutput();
    this.o.onCheckpointStep?.('output-written');
    const moved = [...this.tasks.values()].filter((t) => t.uncommitted !== undefined && t.next !== undefined);
    for (const t of moved) {
      await this.o.store.save({
        version: PARTITION_SNAPSHOT_VERSION,
        topic: t.topic,
        partition: t.partition,
        next_offset: t.next!.toString(),
        last_tick: t.lastTick,
        generation: this.generation,
        member: this.member,
        processor: t.processor.snapshot(),
      });
      this.o.onCheckpointStep?.('state-saved');
    }
    for (const t of moved) {
      const rec = t.uncommitted!;
      t.uncommitted = undefined;
      try {
        await rec.commit();
      } catch (err) {
        // Usually a rebalance fenced us off; the snapshot already covers the offset, so the next
        // owner skips what we processed.
        this.log.warn({ err, task: taskKey(t.topic, t.partition) }, 'offset commit failed');
      }
      this.o.onCheckpointStep?.('offset-committed');
    }
    if (moved.length > 0) this.o.onStatus?.({ event: 'checkpoint', tasks: moved.length, records });
  }
}
