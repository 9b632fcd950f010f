/**
 * Test helpers for the runtime: a tiny warm-up detector, a memory sink and an array source.
 * Used only by tests of the engine's own logic; integrations are tested against real parts.
 */
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import type { DetectorDef } from '../../../core/src/detectors/contract.ts';
import type { Event, Reading } from '../../../core/src/schema/events.ts';
import type { PipelineConfig } from '../config/load.ts';
import type { BlobStore, Sink, SinkRecord, SinkRecordType, Source } from './types.ts';

const Params = Type.Object({ warmup: Type.Integer({ default: 5 }), limit: Type.Number({ default: 10 }) });

/** Null for `warmup` points, then scores 1 and raises a finding when the value exceeds `limit`. */
export const warmupDetector: DetectorDef<typeof Params, { n: number }> = {
  type: 'test_warmup',
  summary: 'test detector',
  params: Params,
  stateVersion: 1,
  input: 'scalar',
  example: '',
  init: () => ({ n: 0 }),
  step(p, s, x, out, labels) {
    s.n++;
    if (s.n <= p.warmup) return null;
    if (x.value > p.limit) {
      out.finding({ severity: 'warning', reason: `${labels.metric} ${x.value} > ${p.limit}` });
      return 1;
    }
    return 0;
  },
};

export function testConfig(dataDir: string, over: Partial<PipelineConfig> = {}): PipelineConfig {
  return {
    file: 'test.yaml',
    site: 'plant-a',
    dataDir,
    sources: [],
    detectors: [
      {
        id: 'w',
        type: 'test_warmup',
        def: warmupDetector,
        params: { warmup: 5, limit: 10 },
        overrides: [],
        key: ['site', 'asset', 'metric'],
        select: { kind: 'reading' },
        min_score_to_store: 0,
      },
    ],
    correlator: { window_secs: 60, resolve_after_secs: 30, group_by: 'stage', related: [], min_severity: 'warning', max_evidence: 10 },
    sinks: [],
    api: { enabled: false, host: '127.0.0.1', port: 0 },
    runtime: { queue_capacity: 16, batch_max: 100, flush_interval_ms: 20, checkpoint_interval_secs: 0, idle_advance_secs: 5, allowed_lateness_secs: 600, max_future_secs: 300, dedupe_window_events: 1000 },
    ...over,
  };
}

export function reading(i: number, value: number, over: Partial<Reading> = {}): Reading {
  const t = Date.UTC(2026, 0, 1) + i * 1000;
  return {
    kind: 'reading',
    id: `r${i}`,
    time: t,
    ingestTime: t,
    site: 'plant-a',
    asset: 'P-101',
    stage: 'intake',
    source: 'test',
    metric: 'flow_m3h',
    value,
    unit: 'm3/h',
    quality: 'good',
    ...over,
  };
}

export function arraySource(id: string, items: unknown[]): Source {
  return {
    id,
    async run(out) {
      for (const it of items) {
        if (typeof it === 'object' && it !== null && (it as Event).kind !== undefined) await out.emitRaw(it, `${id}`);
        else await out.emitRaw(it, `${id}`);
      }
    },
  };
}

export class MemorySink implements Sink {
  readonly records: SinkRecord[] = [];
  readonly accepts: ReadonlySet<SinkRecordType> = new Set<SinkRecordType>(['event', 'score', 'anomaly', 'incident', 'deadletter', 'label']);
  closed = false;
  constructor(readonly id = 'mem') {}
  write(batch: readonly SinkRecord[]): Promise<void> {
    this.records.push(...batch);
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  of<T extends SinkRecordType>(type: T): Array<Extract<SinkRecord, { type: T }>> {
    return this.records.filter((r): r is Extract<SinkRecord, { type: T }> => r.type === type);
  }
}

export const silentLogger = pino({ level: 'silent' });

export const noBlobs: BlobStore = {
  put: () => Promise.reject(new Error('no blob store in this test')),
  get: () => Promise.reject(new Error('no blob store in this test')),
};
