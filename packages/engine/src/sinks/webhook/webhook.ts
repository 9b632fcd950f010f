/**
 * Webhook alert sink: POSTs Alertmanager-compatible payloads (webhook version "4") when an
 * incident opens, changes severity or resolves, so anything that takes Alertmanager webhooks
 * (Alertmanager receivers, Grafana OnCall, PagerDuty/Opsgenie bridges, chat bots) can take ours.
 *
 * One incident is one alert. Its labels are {alertname, severity, site, asset (where it started),
 * incident_id, stage?}; the fingerprint is a 64-bit FNV-1a hash of the sorted labels (Prometheus'
 * scheme), hex. Severity being a label, an escalation is, as in Alertmanager, a new alert: the
 * payload then also carries the previous-severity alert as resolved so receivers close it.
 *
 * Delivery: retried with exponential back-off and jitter on network errors, timeouts, 5xx and
 * 429 (honouring Retry-After up to `backoff_max_ms`); other 4xx fail at once (the payload will not
 * get better). After `max_retries` retries the write throws E_WEBHOOK_GAVE_UP and the runtime
 * counts it; the incident's state is then not remembered, so its next revision is sent again.
 *
 * With `spill_dir` set, incidents go through the durable outbox (`../outbox.ts`): write() queues
 * them (memory, spilled to disk when full or while the receiver is down), a background deliverer
 * sends them in order and retries forever with back-off, and a restart resumes what was spilled;
 * an incident the receiver refuses for good (4xx) goes to the dead letters instead.
 *
 * @example
 * const sink = createWebhookSink({ url: 'http://alertmanager-bridge:9099/hook', max_retries: 5 }, { logger });
 * await sink.write([{ type: 'incident', incident }]); // → POST {version:"4", status:"firing", alerts:[…]}
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Incident, Severity } from '../../../../core/src/schema/events.ts';
import type { DeadLetter, Sink, SinkRecordType } from '../../runtime/types.ts';
import { deadLetterWriter, SinkError, resolveSinkParams, type SinkDeps } from '../common.ts';
import { OutboxParamProps, openOutbox, type Outbox, type OutboxStats } from '../outbox.ts';

export const WebhookSinkParams = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Receiver URL (http or https).' }),
    timeout_ms: Type.Integer({ minimum: 1, default: 5000, description: 'Per-request timeout.' }),
    max_retries: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 5,
      description: 'Retries after the first attempt.',
    }),
    backoff_initial_ms: Type.Integer({
      minimum: 0,
      default: 250,
      description: 'Delay before the first retry; doubles each retry.',
    }),
    backoff_max_ms: Type.Integer({ minimum: 0, default: 30_000, description: 'Upper bound of any one delay.' }),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Extra request headers (e.g. Authorization).' }),
    ),
    receiver: Type.String({ minLength: 1, default: 'retimu-ad', description: 'The payload\'s "receiver" field.' }),
    external_url: Type.String({
      default: 'http://localhost:8080',
      description: "Base URL of the RETIMU-AD dashboard, for externalURL and each alert's generatorURL.",
    }),
    ...OutboxParamProps,
  },
  { additionalProperties: false },
);
export type WebhookSinkParams = Static<typeof WebhookSinkParams>;

export const ALERT_NAME = 'RetimuAdIncident';
/** Alertmanager's "zero time", sent as endsAt while an alert is firing. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AlertmanagerAlert[];
}

export interface WebhookSinkDeps extends SinkDeps {
  /** Randomness for jitter, in [0, 1); injectable for tests. */
  random?: () => number;
  /** Outbox mode: where incidents the receiver refused for good (4xx) or that found no spill room go. */
  onDeadLetter?: (dl: DeadLetter) => void | Promise<void>;
}

export interface WebhookSink extends Sink {
  /** The outbox's counters (outbox mode only). */
  outboxStats(): OutboxStats | undefined;
}

/** 64-bit FNV-1a over the labels sorted by name, `name 0xff value 0xff` each: stable across runs and processes. */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const FNV_OFFSET = 0xcbf29ce484222325n;
  const FNV_PRIME = 0x100000001b3n;
  const MASK = 0xffffffffffffffffn;
  let h = FNV_OFFSET;
  const enc = new TextEncoder();
  const add = (bytes: Uint8Array): void => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK;
  };
  const sep = new Uint8Array([0xff]);
  for (const name of Object.keys(labels).sort()) {
    add(enc.encode(name));
    add(sep);
    add(enc.encode(labels[name] ?? ''));
    add(sep);
  }
  return h.toString(16).padStart(16, '0');
}

/** The labels identifying an incident's alert at a given severity. */
export function incidentLabels(inc: Incident, severity: Severity = inc.severity): Record<string, string> {
  const labels: Record<string, string> = {
    alertname: ALERT_NAME,
    severity,
    site: inc.site,
    asset: inc.assets[0] ?? 'unknown',
    incident_id: inc.id,
  };
  if (inc.stage !== undefined) labels['stage'] = inc.stage;
  return labels;
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString();

/** Builds the alert for an incident; `asResolvedAt` forces a resolved alert (a superseded severity). */
export function incidentAlert(
  inc: Incident,
  externalUrl: string,
  opts: { severity?: Severity; asResolvedAt?: number } = {},
): AlertmanagerAlert {
  const labels = incidentLabels(inc, opts.severity);
  const resolved = opts.asResolvedAt !== undefined || inc.status === 'resolved';
  const endsAt = opts.asResolvedAt ?? inc.endTime ?? inc.lastTime;
  const summary = `[${labels['severity']}] ${inc.site} ${inc.assets.join(', ')}: ${inc.explanation.split('\n', 1)[0] ?? ''}`;
  const description =
    `${inc.explanation}\n\nassets: ${inc.assets.join(', ')}; modalities: ${inc.modalities.join(', ')}; ` +
    `anomalies: ${inc.anomalyCount}; peak score: ${inc.peakScore.toFixed(3)}; revision: ${inc.revision}`;
  return {
    status: resolved ? 'resolved' : 'firing',
    labels,
    annotations: { summary, description },
    startsAt: rfc3339(inc.startTime),
    endsAt: resolved ? rfc3339(endsAt) : ZERO_TIME,
    generatorURL: `${externalUrl.replace(/\/+$/, '')}/#/incidents/${encodeURIComponent(inc.id)}`,
    fingerprint: labelsFingerprint(labels),
  };
}

function common(maps: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = maps;
  const out: Record<string, string> = {};
  if (!first) return out;
  for (const [k, v] of Object.entries(first)) if (rest.every((m) => m[k] === v)) out[k] = v;
  return out;
}

/** Wraps alerts into a version-4 payload grouped by incident. */
export function alertmanagerPayload(
  inc: Incident,
  alerts: AlertmanagerAlert[],
  receiver: string,
  externalUrl: string,
): AlertmanagerPayload {
  const groupLabels = { alertname: ALERT_NAME, incident_id: inc.id, site: inc.site };
  const groupKey = `{}:{${Object.entries(groupLabels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: externalUrl,
    alerts,
  };
}

interface SentState {
  status: Incident['status'];
  severity: Severity;
  revision: number;
}
const MAX_TRACKED = 10_000;

export function createWebhookSink(raw: unknown, deps: WebhookSinkDeps): WebhookSink {
  const params = resolveSinkParams('webhook', WebhookSinkParams, raw);
  const id = deps.id ?? 'webhook';
  const log = deps.logger;
  const random = deps.random ?? Math.random;
  const closing = new AbortController();
  const sent = new Map<string, SentState>();
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();

  function abortSignal(): AbortSignal {
    return deps.signal ? AbortSignal.any([deps.signal, closing.signal]) : closing.signal;
  }

  /** Equal jitter: half the exponential delay fixed, half random, so retries of many sinks spread out. */
  function backoff(retry: number, retryAfterMs: number | undefined): number {
    const exp = Math.min(params.backoff_max_ms, params.backoff_initial_ms * 2 ** retry);
    const jittered = exp / 2 + (random() * exp) / 2;
    return Math.min(params.backoff_max_ms, Math.max(jittered, retryAfterMs ?? 0));
  }

  async function post(payload: AlertmanagerPayload, what: string): Promise<void> {
    const body = JSON.stringify(payload);
    let lastProblem = '';
    for (let attempt = 0; attempt <= params.max_retries; attempt++) {
      const signal = abortSignal();
      if (signal.aborted)
        throw new SinkError(
          'E_WEBHOOK_ABORTED',
          `webhook sink ${id}: ${what} not sent, shutting down (${lastProblem || 'before first attempt'})`,
        );
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(params.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'retimu-ad', ...params.headers },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(params.timeout_ms)]),
        });
        // Drain the body so the connection can be reused.
        const text = await res.text().catch(() => '');
        if (res.ok) {
          deps.metrics?.emitted(1);
          if (attempt > 0)
            log.info(
              { url: params.url, attempts: attempt + 1 },
              `webhook ${what} delivered after ${attempt + 1} attempts`,
            );
          return;
        }
        lastProblem = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
        if (res.status !== 429 && res.status < 500) {
          throw new SinkError(
            'E_WEBHOOK_REJECTED',
            `webhook sink ${id}: ${params.url} rejected ${what} with ${lastProblem}`,
          );
        }
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      } catch (err) {
        if (err instanceof SinkError) throw err;
        if (closing.signal.aborted || deps.signal?.aborted) {
          throw new SinkError('E_WEBHOOK_ABORTED', `webhook sink ${id}: ${what} not sent, shutting down`, {
            cause: err,
          });
        }
        const e = err as Error;
        lastProblem =
          e.name === 'TimeoutError' ? `timed out after ${params.timeout_ms} ms` : `${e.message}${causeText(e)}`;
      }
      if (attempt === params.max_retries) break;
      const delay = backoff(attempt, retryAfterMs);
      log.warn(
        { url: params.url, attempt: attempt + 1, delayMs: Math.round(delay), problem: lastProblem },
        `webhook ${what} failed, retrying`,
      );
      await sleep(delay, abortSignal());
    }
    throw new SinkError(
      'E_WEBHOOK_GAVE_UP',
      `webhook sink ${id}: gave up sending ${what} to ${params.url} after ${params.max_retries + 1} attempts; last problem: ${lastProblem}`,
    );
  }

  async function deliver(inc: Incident): Promise<void> {
    const prev = sent.get(inc.id);
    if (prev && inc.revision <= prev.revision) return;
    // Only status or severity changes are news; other revisions (one more anomaly) are not sent.
    if (prev && prev.status === inc.status && prev.severity === inc.severity) {
      prev.revision = inc.revision;
      return;
    }
    // First sight of an already-resolved incident (after a restart) is still sent: receivers may hold it firing.
    const alerts = [incidentAlert(inc, params.external_url)];
    if (prev && prev.status === 'open' && prev.severity !== inc.severity) {
      alerts.push(incidentAlert(inc, params.external_url, { severity: prev.severity, asResolvedAt: inc.lastTime }));
    }
    const what = `incident ${inc.id} rev ${inc.revision} (${inc.status}, ${inc.severity})`;
    await post(alertmanagerPayload(inc, alerts, params.receiver, params.external_url), what);
    sent.delete(inc.id); // re-insert so Map order tracks recency
    sent.set(inc.id, { status: inc.status, severity: inc.severity, revision: inc.revision });
    for (const oldest of sent.keys()) {
      if (sent.size <= MAX_TRACKED) break;
      sent.delete(oldest);
    }
  }

  /** Of several revisions of one incident, only the latest matters. */
  function latestOf(incidents: Iterable<Incident>): Map<string, Incident> {
    const latest = new Map<string, Incident>();
    for (const inc of incidents) {
      const have = latest.get(inc.id);
      if (!have || inc.revision > have.revision) latest.set(inc.id, inc);
    }
    return latest;
  }

  const writeDeadLetter = deadLetterWriter(id, deps);
  async function deadLetter(inc: Incident, reason: string): Promise<void> {
    deps.metrics?.discarded('rejected_by_receiver');
    log.error({ incident: inc.id, revision: inc.revision, reason }, 'webhook incident dead-lettered');
    await writeDeadLetter(`webhook ${params.url}`, reason, JSON.stringify(inc));
  }

  if (params.spill_dir !== undefined) {
    const outboxP: Promise<Outbox<Incident>> = openOutbox<Incident>(
      { ...params, spill_dir: params.spill_dir },
      {
        id,
        logger: log,
        // A 4xx for one incident must not hold back the others: it is dead-lettered on its own.
        deliver: async (incidents) => {
          for (const inc of latestOf(incidents).values()) {
            try {
              await deliver(inc);
            } catch (err) {
              if (err instanceof SinkError && err.code === 'E_WEBHOOK_REJECTED') await deadLetter(inc, err.message);
              else throw err;
            }
          }
        },
        abortDelivery: () => closing.abort(),
        onDeadLetter: async (incidents, reason) => {
          for (const inc of incidents) await deadLetter(inc, reason);
        },
        ...(deps.metrics !== undefined ? { metrics: deps.metrics } : {}),
        ...(deps.metricsRegistry !== undefined ? { registry: deps.metricsRegistry } : {}),
        random,
      },
    );
    // Opening is awaited by write/close; a failure (spill_dir not creatable) surfaces there.
    outboxP.catch(() => undefined);
    let outbox: Outbox<Incident> | undefined;
    void outboxP.then((o) => (outbox = o)).catch(() => undefined);
    return {
      id,
      accepts: new Set<SinkRecordType>(['incident']),
      outboxStats: () => outbox?.stats(),
      async write(batch) {
        if (closed) throw new SinkError('E_SINK_CLOSED', `webhook sink ${id} is closed`);
        const incidents: Incident[] = [];
        for (const rec of batch) if (rec.type === 'incident') incidents.push(rec.incident);
        await (await outboxP).write(incidents);
      },
      async close() {
        if (closed) return;
        closed = true;
        await (await outboxP).close();
        closing.abort();
      },
    };
  }

  return {
    id,
    accepts: new Set<SinkRecordType>(['incident']),
    outboxStats: () => undefined,
    write(batch) {
      if (closed) return Promise.reject(new SinkError('E_SINK_CLOSED', `webhook sink ${id} is closed`));
      // Of several revisions of one incident in a batch, only the latest matters.
      const latest = new Map<string, Incident>();
      for (const rec of batch) {
        if (rec.type !== 'incident') continue;
        const have = latest.get(rec.incident.id);
        if (!have || rec.incident.revision > have.revision) latest.set(rec.incident.id, rec.incident);
      }
      const run = tail.then(async () => {
        for (const inc of latest.values()) await deliver(inc);
      });
      tail = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Let queued deliveries finish (they are bounded by their retries), then stop.
      await tail;
      closing.abort();
    },
  };
}

function parseRetryAfter(v: string | null): number | undefined {
  if (v === null) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  return undefined;
}

function causeText(e: Error): string {
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  if (!cause) return '';
  const code = typeof cause.code === 'string' ? cause.code : '';
  const msg = typeof cause.message === 'string' ? cause.message : '';
  return ` (${[code, msg].filter(Boolean).join(' ')})`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
