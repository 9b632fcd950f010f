/**
 * Turns records of the Kafka topic layout back into the sink records the embedded store and
 * the live feed take: anomalies, incidents and dead letters written by workers (and ingest), and
 * the events of the modality topics. Pure apart from JSON parsing; `retimuad api` uses it to
 * fill its own store from the bus (see stack.ts).
 *
 * @example
 * const r = decodeBusRecord('anomalies', buf, 1764000000000);
 * if (r.ok) await store.write([r.record]);   // else r.reason: '/score: expected number, got "x"'
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Anomaly, type Incident } from '../../../core/src/schema/events.ts';
import { decodeEvent } from '../../../core/src/schema/validate.ts';
import type { TopicRole } from '../kafka/topics.ts';
import type { DeadLetter, SinkRecord } from '../runtime/types.ts';

export type BusDecodeResult = { ok: true; record: SinkRecord } | { ok: false; reason: string };

const anomalyCheck = TypeCompiler.Compile(Anomaly);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The fields the store and the console rely on; the first one missing is named. */
function incidentProblem(v: Record<string, unknown>): string | undefined {
  for (const f of ['id', 'site', 'explanation'] as const) if (!isStr(v[f])) return `/${f}: expected a string`;
  for (const f of ['startTime', 'lastTime', 'revision', 'anomalyCount', 'peakScore'] as const) {
    if (!isNum(v[f])) return `/${f}: expected a finite number`;
  }
  if (v['endTime'] !== undefined && !isNum(v['endTime'])) return '/endTime: expected a finite number';
  if (v['status'] !== 'open' && v['status'] !== 'resolved') return '/status: expected open or resolved';
  if (v['severity'] !== 'info' && v['severity'] !== 'warning' && v['severity'] !== 'critical') {
    return '/severity: expected info, warning or critical';
  }
  if (!Array.isArray(v['assets']) || !v['assets'].every(isStr)) return '/assets: expected an array of strings';
  if (!Array.isArray(v['modalities']) || !v['modalities'].every(isStr)) {
    return '/modalities: expected an array of strings';
  }
  if (!Array.isArray(v['evidence']) || !v['evidence'].every((a) => anomalyCheck.Check(a))) {
    return '/evidence: expected an array of anomalies';
  }
  return undefined;
}

function deadLetterProblem(v: Record<string, unknown>): string | undefined {
  for (const f of ['id', 'component', 'where', 'reason', 'raw'] as const)
    if (!isStr(v[f])) return `/${f}: expected a string`;
  if (!isNum(v['time'])) return '/time: expected a finite number';
  return undefined;
}

/**
 * Decodes one record of `role`'s topic. `timestampMs` (the record's Kafka timestamp) stamps the
 * ingest time of events that carry none.
 */
export function decodeBusRecord(role: TopicRole, value: Uint8Array, timestampMs: number): BusDecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  switch (role) {
    case 'anomalies': {
      if (anomalyCheck.Check(raw)) return { ok: true, record: { type: 'anomaly', anomaly: raw } };
      const e = anomalyCheck.Errors(raw).First();
      return { ok: false, reason: e === undefined ? 'not an anomaly' : `${e.path || '/'}: ${e.message}` };
    }
    case 'incidents': {
      if (!isObj(raw)) return { ok: false, reason: '/: expected a JSON object' };
      const p = incidentProblem(raw);
      return p === undefined
        ? { ok: true, record: { type: 'incident', incident: raw as unknown as Incident } }
        : { ok: false, reason: p };
    }
    case 'deadletters': {
      if (!isObj(raw)) return { ok: false, reason: '/: expected a JSON object' };
      const p = deadLetterProblem(raw);
      return p === undefined
        ? { ok: true, record: { type: 'deadletter', deadLetter: raw as unknown as DeadLetter } }
        : { ok: false, reason: p };
    }
    case 'readings':
    case 'logs':
    case 'audio':
    case 'images': {
      const r = decodeEvent(raw, { now: timestampMs, source: 'kafka' });
      return r.ok ? { ok: true, record: { type: 'event', event: r.event } } : { ok: false, reason: r.reason };
    }
  }
}

/**
 * Remembers the last `capacity` ids (first in, first out). Workers deliver at least once, so a
 * failover replays anomalies and dead letters; the store appends those, so the api drops ids it
 * has just written. Incidents need none of this: the store keeps the highest revision.
 */
export class RecentIds {
  private readonly set = new Set<string>();
  constructor(private readonly capacity: number) {}

  /** True the first time an id is offered (within the window), false for a repeat. */
  add(id: string): boolean {
    if (this.set.has(id)) return false;
    this.set.add(id);
    if (this.set.size > this.capacity) {
      // Sets iterate in insertion order: the first key is the oldest.
      const oldest = this.set.values().next();
      if (oldest.done !== true) this.set.delete(oldest.value);
    }
    return true;
  }

  get size(): number {
    return this.set.size;
  }
}
