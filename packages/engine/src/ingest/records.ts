/**
 * Ingest edge logic shared by HTTP and MQTT: split a payload into records (one JSON object, a
 * JSON array, or NDJSON lines), validate each with decodeEvent, refuse media references above a
 * size limit, and produce accepted events to their modality topics and rejected records, with
 * their reasons, to the dead-letter topic. Resolves only once Kafka acknowledged both, so a
 * success answer to a client means the records are durable.
 *
 * @example
 * const r = splitPayload('{"kind":"reading",...}\n{"kind":"log",...}', 'application/x-ndjson');
 * const v = validateRecords(r.records, { now: Date.now(), source: 'http', site: 'plant-a', max_media_bytes: 8 << 20, where: 'http POST /ingest' });
 * await writer.write(v.accepted, v.rejected);
 */
import { decodeEvent, type FieldError } from '../../../core/src/schema/validate.ts';
import type { Event } from '../../../core/src/schema/events.ts';
import type { KafkaClient, KafkaRecordOut } from '../kafka/client.ts';
import { partitionKey, type KeyBy, type TopicLayout } from '../kafka/topics.ts';
import type { DeadLetter } from '../runtime/types.ts';

export interface RawRecord {
  /** Position in the payload, from 0. */
  index: number;
  /** Line number (NDJSON), from 1. */
  line?: number;
  text: string;
  /** The parsed value, or undefined when `error` says why it could not be parsed. */
  value?: unknown;
  error?: string;
}

export interface Rejection {
  index: number;
  line?: number;
  reason: string;
  errors: FieldError[];
}

export interface Validated {
  accepted: Event[];
  rejected: Array<Rejection & { raw: string; where: string }>;
}

const MAX_RAW = 8192;

/** Splits a payload: NDJSON when the content type says so or when it does not parse as one JSON value. */
export function splitPayload(text: string, contentType: string | undefined): RawRecord[] {
  const ct = (contentType ?? '').toLowerCase();
  const ndjson = ct.includes('ndjson') || ct.includes('jsonlines') || ct.includes('x-jsonl');
  if (!ndjson) {
    try {
      const v = JSON.parse(text) as unknown;
      return Array.isArray(v)
        ? (v as unknown[]).map((x, index) => ({ index, text: JSON.stringify(x) ?? '', value: x }))
        : [{ index: 0, text, value: v }];
    } catch (err) {
      // Not one JSON value: if it has several lines, treat it as NDJSON, else it is unreadable.
      if (!text.includes('\n')) return [{ index: 0, line: 1, text, error: `not JSON: ${(err as Error).message}` }];
    }
  }
  const out: RawRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const rec: RawRecord = { index: out.length, line: i + 1, text: line };
    try {
      rec.value = JSON.parse(line) as unknown;
    } catch (err) {
      rec.error = `not JSON: ${(err as Error).message}`;
    }
    out.push(rec);
  }
  return out;
}

export interface ValidateOptions {
  now: number;
  source: string;
  site?: string;
  /** Largest `media.bytes` accepted on audio/image references. */
  max_media_bytes: number;
  /** Prefix of each rejection's `where`, e.g. "http POST /ingest" or "mqtt plant/a/readings". */
  where: string;
}

export function validateRecords(records: readonly RawRecord[], o: ValidateOptions): Validated {
  const accepted: Event[] = [];
  const rejected: Validated['rejected'] = [];
  for (const r of records) {
    const where = `${o.where} record ${r.index}${r.line === undefined ? '' : ` (line ${r.line})`}`;
    const raw =
      r.text.length > MAX_RAW ? `${r.text.slice(0, MAX_RAW)}…[truncated ${r.text.length - MAX_RAW} chars]` : r.text;
    const reject = (reason: string, errors: FieldError[]) =>
      rejected.push({ index: r.index, ...(r.line === undefined ? {} : { line: r.line }), reason, errors, raw, where });
    if (r.error !== undefined) {
      reject(r.error, [{ path: '/', message: r.error }]);
      continue;
    }
    const d = decodeEvent(r.value, { now: o.now, source: o.source, ...(o.site === undefined ? {} : { site: o.site }) });
    if (!d.ok) {
      reject(d.reason, d.errors);
      continue;
    }
    const e = d.event;
    if ((e.kind === 'audio' || e.kind === 'image') && e.media.bytes > o.max_media_bytes) {
      const message = `media of ${e.media.bytes} bytes exceeds the limit of ${o.max_media_bytes} bytes`;
      reject(`/media/bytes: ${message}`, [{ path: '/media/bytes', message }]);
      continue;
    }
    accepted.push(e);
  }
  return { accepted, rejected };
}

/** Produces validated events and dead letters to the topic layout. */
export class IngestWriter {
  private seq = 0;
  constructor(
    private readonly kafka: KafkaClient,
    private readonly layout: TopicLayout,
    private readonly keyBy: KeyBy,
    private readonly component: string,
  ) {}

  async write(accepted: readonly Event[], rejected: Validated['rejected'], now: number): Promise<void> {
    const byTopic = new Map<string, KafkaRecordOut[]>();
    const put = (topic: string, rec: KafkaRecordOut) => {
      let l = byTopic.get(topic);
      if (l === undefined) byTopic.set(topic, (l = []));
      l.push(rec);
    };
    for (const e of accepted)
      put(this.layout.forEvent(e), { key: partitionKey(e, this.keyBy), value: JSON.stringify(e) });
    for (const r of rejected) {
      const dl: DeadLetter = {
        id: `dl-${this.component}-${now}-${++this.seq}`,
        time: now,
        component: this.component,
        where: r.where,
        reason: r.reason,
        raw: r.raw,
      };
      put(this.layout.name('deadletters'), { key: this.component, value: JSON.stringify(dl) });
    }
    await Promise.all([...byTopic].map(([topic, recs]) => this.kafka.produce(topic, recs)));
  }
}
