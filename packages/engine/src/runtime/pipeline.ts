/**
 * The live pipeline: sources → validation (bad records → dead letters) → bounded queue →
 * processor (detectors, correlator) → batched sinks. Checkpoints the processor's keyed state
 * periodically and at shutdown, and resumes from the last checkpoint on start.
 *
 * @example
 * const p = new Pipeline({ config, sources, sinks, logger, metrics, blobs });
 * await p.start();           // restores the checkpoint if one exists
 * process.on('SIGTERM', () => void p.stop());
 * await p.done;              // drained and checkpointed: after sources end (offline) or stop()
 * await p.stop();            // also closes the sinks
 */
import { mkdir, readFile, rename, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { decodeEvent } from '../../../core/src/schema/validate.ts';
import type { AudioClip, Event, ImageFrame, Label } from '../../../core/src/schema/events.ts';
import type { PipelineConfig } from '../config/load.ts';
import { BoundedQueue } from './queue.ts';
import { RecentIds } from './recent-ids.ts';
import { Processor, type ProcessorSnapshot } from './processor.ts';
import type { Metrics } from './metrics.ts';
import type { MediaFeatureStage } from './media-features.ts';
import type { ModelStage } from '../models/stage.ts';
import { attachHeatmaps } from '../models/attach.ts';
import {
  systemClock,
  type BlobStore,
  type Clock,
  type ComponentContext,
  type DeadLetter,
  type Sink,
  type SinkRecord,
  type Source,
  type SourceOutput,
} from './types.ts';

export interface PipelineOptions {
  config: PipelineConfig;
  sources: Source[];
  sinks: Sink[];
  logger: Logger;
  metrics: Metrics;
  blobs: BlobStore;
  clock?: Clock;
  /** Ignore an existing checkpoint. */
  fresh?: boolean;
  /** Turns audio clips and camera frames into feature readings the detectors judge. */
  media?: MediaFeatureStage;
  /** Pretrained model stages (audio, image, sensor windows) whose scores become readings. */
  models?: ModelStage;
  /** Live mode advances event time by the wall clock when idle; offline replays never do. */
  live_time?: boolean;
}

const MAX_RAW_CHARS = 8192;

export class Pipeline {
  readonly processor: Processor;
  private readonly queue: BoundedQueue<{ event: Event } | { label: Label }>;
  private readonly abort = new AbortController();
  private readonly pending: SinkRecord[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly stateDir: string;
  private readonly deadLetterFile: string;
  private lastFlush = 0;
  private lastCheckpoint = 0;
  private lastEventWall = 0;
  private lastTickTime = 0;
  private dlSeq = 0;
  private stopping = false;
  private resolveDone!: () => void;
  readonly done: Promise<void>;
  readonly startedAt: number;

  constructor(private readonly opts: PipelineOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ component: 'pipeline' });
    this.processor = new Processor(opts.config.detectors, opts.config.correlator);
    this.queue = new BoundedQueue(opts.config.runtime.queue_capacity);
    this.stateDir = join(opts.config.dataDir, 'state');
    this.deadLetterFile = join(opts.config.dataDir, 'deadletters.jsonl');
    this.done = new Promise((r) => (this.resolveDone = r));
    this.startedAt = this.clock.now();
  }

  get queueDepth(): number {
    return this.queue.size;
  }
  get queueCapacity(): number {
    return this.queue.capacity;
  }
  /** Model inference counters, for health. */
  modelStats(): Record<string, { batches: number; items: number; peakQueued: number }> {
    return this.opts.models?.stats() ?? {};
  }

  get deadLetterCount(): number {
    return this.dlSeq;
  }

  get checkpointFile(): string {
    return join(this.stateDir, 'checkpoint.json');
  }

  /** Restores the checkpoint, starts sources and the processing loop. */
  async start(): Promise<{ restored: boolean }> {
    await mkdir(this.stateDir, { recursive: true });
    let restored = false;
    if (this.opts.fresh !== true) restored = await this.restore();
    const sourcesDone = Promise.all(this.opts.sources.map((s) => this.runSource(s))).then(() => {
      this.log.info('all sources finished');
      this.queue.close();
    });
    void this.loop().then(
      async () => {
        await sourcesDone;
        await this.finish();
      },
      (err: unknown) => {
        this.log.error({ err }, 'processing loop failed');
        void this.finish().finally(() => process.exitCode ?? (process.exitCode = 1));
      },
    );
    return { restored };
  }

  /** Graceful stop: sources stop, the queue drains, sinks flush, a checkpoint is written, sinks close. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.log.info('stopping: draining queue and writing checkpoint');
      this.abort.abort();
      this.queue.close();
    }
    await this.done;
    await this.closeSinks();
  }

  private sinksClosed: Promise<void> | undefined;
  /** Closes every sink once; `done` leaves them open so the API can still read the store. */
  closeSinks(): Promise<void> {
    this.sinksClosed ??= (async () => {
      for (const sink of this.opts.sinks) {
        try {
          await sink.close();
        } catch (err) {
          this.log.error({ err, sink: sink.id }, 'sink close failed');
        }
      }
      this.log.info('sinks closed');
    })();
    return this.sinksClosed;
  }

  private async runSource(source: Source): Promise<void> {
    const m = this.opts.metrics.component(source.id, 'source');
    const ctx: ComponentContext = {
      id: source.id,
      logger: this.opts.logger.child({ component: source.id }),
      metrics: m,
      clock: this.clock,
      signal: this.abort.signal,
      dataDir: this.opts.config.dataDir,
      blobs: this.opts.blobs,
    };
    const push = async (item: { event: Event } | { label: Label }) => {
      if (this.queue.isClosed) return;
      try {
        await this.queue.push(item);
      } catch {
        // closed while waiting: shutdown in progress; the source stops at its next abort check
      }
    };
    const out: SourceOutput = {
      emit: (event) => {
        m.received(1, event.kind);
        const r = decodeEvent(event, { now: this.clock.now(), source: source.id, site: this.opts.config.site });
        if (!r.ok) return this.deadLetter(source.id, `${source.id} event ${String(event.id)}`, r.reason, event);
        return push({ event: r.event });
      },
      emitRaw: (raw, where) => {
        m.received(1, 'raw');
        const r = decodeEvent(raw, { now: this.clock.now(), source: source.id, site: this.opts.config.site });
        if (!r.ok) return this.deadLetter(source.id, where, r.reason, raw);
        return push({ event: r.event });
      },
      label: (label) => push({ label }),
      reject: (raw, where, reason) => {
        m.received(1, 'raw');
        return this.deadLetter(source.id, where, reason, raw);
      },
    };
    try {
      await source.run(out, ctx);
    } catch (err) {
      m.error((err as Error).message);
      this.log.error({ err, source: source.id }, 'source failed');
    }
  }

  /** Keeps a rejected record with its reason: always in data/deadletters.jsonl, and in sinks that want them. */
  async deadLetter(component: string, where: string, reason: string, raw: unknown): Promise<void> {
    this.opts.metrics.component(component, 'source').discarded(reasonClass(reason));
    let text: string;
    try {
      text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw));
    } catch {
      text = String(raw);
    }
    const dl: DeadLetter = {
      id: `dl-${this.clock.now()}-${++this.dlSeq}`,
      time: this.clock.now(),
      component,
      where,
      reason,
      raw: text.length > MAX_RAW_CHARS ? `${text.slice(0, MAX_RAW_CHARS)}…[truncated ${text.length - MAX_RAW_CHARS} chars]` : text,
    };
    await appendFile(this.deadLetterFile, `${JSON.stringify(dl)}\n`);
    this.pending.push({ type: 'deadletter', deadLetter: dl });
  }

  private async loop(): Promise<void> {
    const rt = this.opts.config.runtime;
    const procMetrics = this.opts.metrics.component('detectors', 'processor');
    for (;;) {
      const item = await this.queue.take(Math.min(rt.flush_interval_ms, 200));
      const now = this.clock.now();
      if (item !== undefined) {
        if ('label' in item) {
          this.pending.push({ type: 'label', label: item.label });
        } else {
          const e = item.event;
          this.lastEventWall = now;
          procMetrics.received(1, e.kind);
          const refusal = this.admission(e);
          if (refusal !== undefined) {
            procMetrics.discarded(refusal.split(':')[0]!);
            await this.deadLetter('detectors', `${e.kind} event ${e.id} from ${e.source}`, refusal, e);
            continue;
          }
          const before = this.pending.length;
          this.pending.push({ type: 'event', event: e });
          this.processor.process(e, this.pending);
          if ((e.kind === 'audio' || e.kind === 'image') && this.opts.media !== undefined) await this.deriveMedia(e);
          if (e.kind !== 'log' && this.opts.models !== undefined) await this.deriveModels(e);
          this.opts.metrics.latency.observe(Math.max(0, now - e.ingestTime) / 1000);
          procMetrics.emitted(this.pending.length - before - 1, 'output');
        }
        if (this.processor.eventTime - this.lastTickTime >= 1000) this.tick(this.processor.eventTime);
      } else if (this.queue.isClosed) {
        break;
      } else if (this.opts.live_time === true && this.lastEventWall > 0) {
        // Idle in live mode: let event time follow the wall clock so silence is noticed.
        const idleMs = now - this.lastEventWall;
        if (idleMs >= rt.idle_advance_secs * 1000) this.tick(this.processor.eventTime + (now - Math.max(this.lastTickWall, this.lastEventWall)));
      }
      this.opts.metrics.queueDepth.set(this.queue.size);
      // Sinks write while the next batch is processed (one batch in flight): waiting for them here
      // would leave the processor idle for every DuckDB commit and file append.
      if (this.pending.length >= rt.batch_max || now - this.lastFlush >= rt.flush_interval_ms) await this.startFlush();
      if (rt.checkpoint_interval_secs > 0 && now - this.lastCheckpoint >= rt.checkpoint_interval_secs * 1000) {
        // A checkpoint covers only what the sinks already hold.
        await this.flush();
        await this.checkpoint();
      }
    }
  }

  /**
   * Late, future and duplicate events are refused before they touch detector state (the
   * policy of docs/adr/0005): returns the reason, or undefined to admit the event.
   */
  private admission(e: Event): string | undefined {
    const rt = this.opts.config.runtime;
    const watermark = this.processor.eventTime;
    if (watermark > 0 && e.time < watermark - rt.allowed_lateness_secs * 1000) {
      return `late: event time ${new Date(e.time).toISOString()} is ${Math.round((watermark - e.time) / 1000)} s behind the newest event (allowed lateness ${rt.allowed_lateness_secs} s)`;
    }
    if (e.time > e.ingestTime + rt.max_future_secs * 1000) {
      return `future: event time ${new Date(e.time).toISOString()} is ${Math.round((e.time - e.ingestTime) / 1000)} s ahead of its ingest time (limit ${rt.max_future_secs} s)`;
    }
    if (rt.dedupe_window_events > 0) {
      this.seenIds ??= new RecentIds(rt.dedupe_window_events);
      if (!this.seenIds.add(e.id)) return `duplicate: event id ${e.id} was already processed`;
    }
    return undefined;
  }
  private seenIds: RecentIds | undefined;

  /** Model scores → readings, processed like any reading; media a model cannot read become dead letters. */
  private async deriveModels(e: Event): Promise<void> {
    const m = this.opts.metrics.component('model-stage', 'processor');
    m.received(1, e.kind);
    try {
      const readings = await this.opts.models!.derive(e);
      for (const r of readings) {
        this.pending.push({ type: 'event', event: r });
        this.processor.process(r, this.pending);
      }
      m.emitted(readings.length, 'reading');
    } catch (err) {
      m.error((err as Error).message);
      await this.deadLetter('model-stage', `${e.kind} event ${e.id}`, (err as Error).message, e);
    }
  }

  /** Media → feature readings, processed like any reading; undecodable media become dead letters. */
  private async deriveMedia(e: AudioClip | ImageFrame): Promise<void> {
    const m = this.opts.metrics.component('media-features', 'processor');
    m.received(1, e.kind);
    try {
      const readings = await this.opts.media!.derive(e);
      for (const r of readings) {
        this.pending.push({ type: 'event', event: r });
        this.processor.process(r, this.pending);
      }
      m.emitted(readings.length, 'reading');
    } catch (err) {
      m.error((err as Error).message);
      await this.deadLetter('media-features', `${e.kind} event ${e.id} (${e.media.uri})`, (err as Error).message, e);
    }
  }

  private lastTickWall = 0;
  private tick(time: number): void {
    this.processor.advance(time, this.pending);
    this.lastTickTime = time;
    this.lastTickWall = this.clock.now();
    this.opts.metrics.openIncidents.set(this.processor.openIncidents().length);
  }

  private inflight: Promise<void> | undefined;
  private inflightError: Error | undefined;

  /** Sends pending records to sinks and waits until every sink has them (or spilled them). */
  async flush(): Promise<void> {
    await this.startFlush();
    await this.settle();
  }

  /** Waits for the batch in flight; rethrows what its delivery could not handle (spilling failed). */
  private async settle(): Promise<void> {
    if (this.inflight !== undefined) await this.inflight;
    if (this.inflightError !== undefined) {
      const err = this.inflightError;
      this.inflightError = undefined;
      throw err;
    }
  }

  /**
   * Hands pending records to the sinks without waiting for the writes. One batch is in flight at
   * a time: the next waits for it, so every sink still sees batches in order, never more than
   * batch_max records each, and memory stays bounded while sinks are slow (backpressure reaches
   * the queue and the sources as before).
   */
  private async startFlush(): Promise<void> {
    await this.settle();
    this.lastFlush = this.clock.now();
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0);
    const run: Promise<void> = this.deliver(batch).then(
      () => {
        if (this.inflight === run) this.inflight = undefined;
      },
      (err: unknown) => {
        if (this.inflight === run) this.inflight = undefined;
        this.inflightError = err instanceof Error ? err : new Error(String(err));
      },
    );
    this.inflight = run;
  }

  /** Writes one batch to every sink, each getting only the record types it accepts. */
  private async deliver(batch: SinkRecord[]): Promise<void> {
    // Image anomalies point at the image model's heat map of their frame (the console shows it).
    if (this.opts.models !== undefined) attachHeatmaps(batch, this.opts.models);
    await Promise.all(
      this.opts.sinks.map(async (sink) => {
        const mine = batch.filter((r) => sink.accepts.has(r.type));
        if (mine.length === 0) return;
        const m = this.opts.metrics.component(sink.id, 'sink');
        m.received(mine.length, 'record');
        try {
          await sink.write(mine);
          m.emitted(mine.length, 'record');
        } catch (err) {
          // The sink gave up after its own retries: keep the records on disk so nothing is lost.
          m.discarded('delivery_failed', mine.length);
          m.error((err as Error).message);
          this.log.error({ err, sink: sink.id, records: mine.length }, 'sink write failed; records spilled to disk');
          await appendFile(join(this.opts.config.dataDir, `undelivered-${sink.id}.jsonl`), mine.map((r) => JSON.stringify(r)).join('\n') + '\n');
        }
      }),
    );
  }

  async checkpoint(): Promise<void> {
    this.lastCheckpoint = this.clock.now();
    const snap = this.processor.snapshot();
    const tmp = `${this.checkpointFile}.tmp`;
    const media = this.opts.media?.snapshot();
    const models = this.opts.models?.snapshot();
    await writeFile(tmp, JSON.stringify({ savedAt: this.clock.now(), ...snap, ...(media !== undefined ? { media } : {}), ...(models !== undefined ? { models } : {}) }));
    await rename(tmp, this.checkpointFile);
  }

  private async restore(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(this.checkpointFile, 'utf8');
    } catch {
      return false;
    }
    const snap = JSON.parse(text) as ProcessorSnapshot & { media?: unknown; models?: unknown };
    const r = this.processor.restore(snap);
    if (snap.media !== undefined) this.opts.media?.restore(snap.media);
    if (snap.models !== undefined) this.opts.models?.restore(snap.models);
    this.lastTickTime = snap.watermark;
    this.log.info({ restored: r.restored, fresh: r.fresh, watermark: new Date(snap.watermark).toISOString() }, 'resumed from checkpoint');
    return true;
  }

  private async finish(): Promise<void> {
    try {
      await this.flush();
      await this.checkpoint();
      this.log.info({ checkpoint: this.checkpointFile }, 'pipeline drained');
    } finally {
      this.resolveDone();
    }
  }
}

/** Groups reasons for the metric label: the field path, not the value, so label cardinality stays bounded. */
function reasonClass(reason: string): string {
  const m = /^(\/[A-Za-z0-9_./]*)/.exec(reason);
  return m?.[1] !== undefined ? `invalid${m[1]}` : 'invalid';
}
