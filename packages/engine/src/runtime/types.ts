/**
 * The engine's component interfaces: sources produce events, sinks consume pipeline output,
 * the store answers the API's queries. Small on purpose (after Benthos: an input connects,
 * reads, closes); retries and reconnects are wrappers, not per-component code.
 */
import type { Logger } from 'pino';
import type { Anomaly, Event, Incident, Label, MediaRef, Modality } from '../../../core/src/schema/events.ts';

/** Wall-clock access goes through this so tests can inject time. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** A record that failed validation or processing, kept with its reason. Nothing is silently dropped. */
export interface DeadLetter {
  id: string;
  /** When it was rejected, epoch ms. */
  time: number;
  /** Component that rejected it. */
  component: string;
  /** Where the record came from: "file.csv:17", "http POST /ingest", "kafka readings/2@1234". */
  where: string;
  reason: string;
  /** The raw record, as text, truncated to a bounded size. */
  raw: string;
}

/** One detector score for one event, kept for charts (score beneath the signal). */
export interface ScorePoint {
  time: number;
  site: string;
  asset: string;
  detector: string;
  metric: string;
  score: number;
}

/** Everything the pipeline emits towards sinks. */
export type SinkRecord =
  | { type: 'event'; event: Event }
  | { type: 'score'; score: ScorePoint }
  | { type: 'anomaly'; anomaly: Anomaly }
  | { type: 'incident'; incident: Incident }
  | { type: 'deadletter'; deadLetter: DeadLetter }
  | { type: 'label'; label: Label };
export type SinkRecordType = SinkRecord['type'];

/** Per-component counters, named after Vector's: received, emitted, discarded with a reason. */
export interface ComponentMetrics {
  received(n?: number, kind?: string): void;
  emitted(n?: number, kind?: string): void;
  discarded(reason: string, n?: number): void;
}

export interface BlobStore {
  /** Stores bytes content-addressed; returns the reference to put in an event. */
  put(bytes: Uint8Array, contentType: string): Promise<MediaRef>;
  /** Reads a blob by its uri ("blob://<sha256>"); throws a clear error if absent. */
  get(uri: string): Promise<Uint8Array>;
}

export interface ComponentContext {
  readonly id: string;
  readonly logger: Logger;
  readonly metrics: ComponentMetrics;
  readonly clock: Clock;
  /** Aborted on shutdown; long-running loops must watch it. */
  readonly signal: AbortSignal;
  /** The instance's data directory (state, blobs, embedded store). */
  readonly dataDir: string;
  readonly blobs: BlobStore;
}

/** What a source hands to the pipeline. `emit*` resolve when the bounded queue has room (backpressure). */
export interface SourceOutput {
  /** A typed event; still validated by the pipeline. */
  emit(event: Event): Promise<void>;
  /** An untyped record; validated, and dead-lettered with `where` on failure. */
  emitRaw(raw: unknown, where: string): Promise<void>;
  /** A ground-truth label (the simulator's). */
  label(label: Label): Promise<void>;
  /** A record the source itself could not read (bad JSON, oversized): dead-lettered with the reason. */
  reject(raw: string, where: string, reason: string): Promise<void>;
}

export interface Source {
  readonly id: string;
  /** Runs until the source is exhausted (resolves) or `ctx.signal` aborts (resolves promptly). */
  run(out: SourceOutput, ctx: ComponentContext): Promise<void>;
}

export interface Sink {
  readonly id: string;
  /** Which record types this sink wants; others are not passed to it. */
  readonly accepts: ReadonlySet<SinkRecordType>;
  /** Writes a batch. Throws on failure after its own retries; the runtime counts and reports it. */
  write(batch: readonly SinkRecord[]): Promise<void>;
  /** Flushes buffers and releases resources. */
  close(): Promise<void>;
}

export interface TimeRange {
  from: number;
  to: number;
}

export interface SeriesPoint {
  time: number;
  value: number;
}

export interface AssetSummary {
  site: string;
  asset: string;
  stage?: string;
  metrics: Array<{ metric: string; unit: string; last: number; lastTime: number }>;
  /** normal | anomalous (an anomaly in the last minute) | incident (an open incident). */
  state: 'normal' | 'anomalous' | 'incident';
}

export interface IncidentQuery {
  status?: 'open' | 'resolved';
  asset?: string;
  limit?: number;
  range?: TimeRange;
}

export interface LogQuery {
  text?: string;
  level?: string;
  asset?: string;
  range?: TimeRange;
  limit?: number;
}

export interface StoredLog {
  id: string;
  time: number;
  site: string;
  asset: string;
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

export interface StoredMedia {
  id: string;
  time: number;
  site: string;
  asset: string;
  kind: Extract<Modality, 'audio' | 'image'>;
  media: MediaRef;
}

/** Read side of a store, used by the API and the dashboard. */
export interface StoreReader {
  assets(): Promise<AssetSummary[]>;
  /** Downsampled to at most `maxPoints` (min/max preserving) when the range holds more. */
  series(site: string, asset: string, metric: string, range: TimeRange, maxPoints: number): Promise<SeriesPoint[]>;
  scores(site: string, asset: string, range: TimeRange, maxPoints: number): Promise<Array<ScorePoint>>;
  anomalies(q: { asset?: string; range?: TimeRange; limit?: number }): Promise<Anomaly[]>;
  incidents(q: IncidentQuery): Promise<Incident[]>;
  incident(id: string): Promise<Incident | undefined>;
  logs(q: LogQuery): Promise<StoredLog[]>;
  media(q: { asset?: string; range?: TimeRange; limit?: number }): Promise<StoredMedia[]>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
  counts(): Promise<Record<string, number>>;
  labels(): Promise<Label[]>;
}
