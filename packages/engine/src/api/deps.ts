/**
 * What the HTTP API needs from the running process, and the in-process live feed that
 * carries pipeline output to dashboard streams (SSE).
 *
 * @example
 * const live = createLiveHub({ bufferSize: 500 });
 * const stop = live.subscribe((m) => { if (m.type === 'anomaly') show(m.data); });
 * live.publish({ type: 'anomaly', data: anomaly });
 * stop();
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Anomaly, Incident, Reading } from '../../../core/src/schema/events.ts';
import type { AnalysisResult } from '../../../core/src/analytics/types.ts';
import type { AnalyzeOptions } from '../analytics/analyze.ts';
import type { AccessControl } from '../auth/access.ts';
import type { TlsFiles } from './tls.ts';
import type { EmbeddedStore } from '../storage/duckdb-store.ts';
import type { BlobStore, Clock, ScorePoint, Sink, SinkRecord, SinkRecordType, StoreReader } from '../runtime/types.ts';

export interface ComponentHealth {
  id: string;
  kind: string;
  received: number;
  emitted: number;
  discarded: number;
  lastError?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  uptimeSecs: number;
  components: ComponentHealth[];
  queue: { depth: number; capacity: number };
  deadLetters: number;
  lagMs?: number;
  /** Each detector instance: keys with state, updates and anomalies so far. */
  detectors?: Array<{ id: string; type: string; keys: number; steps: number; anomalies: number }>;
  /** Each model: batches and items inferred, and the deepest its queue has been. */
  models?: Array<{ id: string; batches: number; items: number; peakQueued: number }>;
}

/** One message of the live feed; `type` doubles as the SSE event name. */
export type LiveMessage =
  | { type: 'reading'; data: Reading }
  | { type: 'score'; data: ScorePoint }
  | { type: 'anomaly'; data: Anomaly }
  | { type: 'incident'; data: Incident }
  | { type: 'health'; data: HealthReport };
export type LiveMessageType = LiveMessage['type'];
export const LIVE_MESSAGE_TYPES: readonly LiveMessageType[] = ['reading', 'score', 'anomaly', 'incident', 'health'];

/**
 * A subscriber may return a promise (e.g. an SSE write); while it is pending, later messages
 * wait in that subscriber's bounded buffer instead of piling up without limit.
 */
export type LiveSubscriber = (msg: LiveMessage) => void | Promise<void>;

export interface LiveFeed {
  /** Returns the unsubscribe function. */
  subscribe(fn: LiveSubscriber): () => void;
}

export interface ApiDeps {
  store: StoreReader;
  registry: Registry;
  live: LiveFeed;
  health(): HealthReport;
  blobs: BlobStore;
  logger: Logger;
  /**
   * Sign-in, roles and API keys. Without it the API is open (unit tests of the read routes);
   * `retimuad run` always gives one.
   */
  access?: AccessControl;
  /** Serve HTTPS with these PEM files (default: RETIMUAD_API_TLS_CERT_FILE/_KEY_FILE, else HTTP). */
  tls?: TlsFiles;
  /** The audit trail of operator actions and log templates; without it those routes answer 404. */
  actions?: ActionStore;
  /** Folder holding the dashboard (index.html, styles.css, src/main.ts); defaults to packages/web. */
  webDir?: string;
  /** Wall clock for default time ranges; injected in tests. */
  clock?: Clock;
  /** Interval between SSE heartbeat comments; 15 s by default. */
  sseHeartbeatMs?: number;
  /**
   * Batch analytics over the store (histograms, trends, drift, clusters) for GET /api/analytics;
   * without it that route answers 503. `retimuad run` gives `analyze(store.query, opts)`.
   */
  analyze?: (opts: AnalyzeOptions) => Promise<AnalysisResult>;
}

/** The part of the embedded store behind incident actions and log templates. */
export type ActionStore = Pick<
  EmbeddedStore,
  'addIncidentAction' | 'incidentActions' | 'latestIncidentActions' | 'logTemplates'
>;

export interface LiveHubOptions {
  /** Messages kept per subscriber while it is busy; the oldest is dropped beyond this. */
  bufferSize?: number;
  logger?: Logger;
}

export interface LiveHub extends LiveFeed {
  publish(msg: LiveMessage): void;
  /** Current subscribers and messages dropped so far because a subscriber was too slow. */
  stats(): { subscribers: number; dropped: number };
}

interface Subscription {
  fn: LiveSubscriber;
  queue: LiveMessage[];
  busy: boolean;
  closed: boolean;
}

/** In-process pub/sub with a bounded buffer per subscriber (drop oldest, counted). */
export function createLiveHub(opts: LiveHubOptions = {}): LiveHub {
  const bufferSize = Math.max(1, Math.floor(opts.bufferSize ?? 1000));
  const subs = new Set<Subscription>();
  let dropped = 0;

  const fail = (err: unknown): void => {
    opts.logger?.warn({ err }, 'live subscriber failed');
  };

  // Synchronous subscribers are served at once; an async one is served again when its promise settles.
  const drain = (s: Subscription): void => {
    while (!s.closed) {
      const msg = s.queue.shift();
      if (msg === undefined) break;
      let r: void | Promise<void>;
      try {
        r = s.fn(msg);
      } catch (err) {
        fail(err);
        continue;
      }
      if (r instanceof Promise) {
        s.busy = true;
        r.then(
          () => {
            s.busy = false;
            drain(s);
          },
          (err: unknown) => {
            fail(err);
            s.busy = false;
            drain(s);
          },
        );
        return;
      }
    }
  };

  return {
    subscribe(fn) {
      const s: Subscription = { fn, queue: [], busy: false, closed: false };
      subs.add(s);
      return () => {
        s.closed = true;
        s.queue.length = 0;
        subs.delete(s);
      };
    },
    publish(msg) {
      for (const s of subs) {
        s.queue.push(msg);
        if (s.queue.length > bufferSize) {
          s.queue.shift();
          dropped++;
        }
        if (!s.busy) drain(s);
      }
    },
    stats: () => ({ subscribers: subs.size, dropped }),
  };
}

/** Maps pipeline output to the live message the dashboard wants, if any. */
export function toLiveMessage(rec: SinkRecord): LiveMessage | undefined {
  switch (rec.type) {
    case 'event':
      return rec.event.kind === 'reading' ? { type: 'reading', data: rec.event } : undefined;
    case 'score':
      return { type: 'score', data: rec.score };
    case 'anomaly':
      return { type: 'anomaly', data: rec.anomaly };
    case 'incident':
      return { type: 'incident', data: rec.incident };
    case 'deadletter':
    case 'label':
      return undefined;
  }
}

/** A sink that forwards pipeline output to a live hub (the dashboard's stream). */
export function createLiveSink(hub: LiveHub, id = 'live'): Sink {
  const accepts: ReadonlySet<SinkRecordType> = new Set<SinkRecordType>(['event', 'score', 'anomaly', 'incident']);
  return {
    id,
    accepts,
    write(batch) {
      for (const rec of batch) {
        const msg = toLiveMessage(rec);
        if (msg) hub.publish(msg);
      }
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}
