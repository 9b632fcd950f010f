/**
 * What every alert sink shares: the error type with stable codes, parameter resolution against a
 * sink's TypeBox schema (defaults filled, problems named by path), and the dependencies a sink
 * factory takes from the runtime's ComponentContext.
 *
 * @example
 * const p = resolveSinkParams('webhook', WebhookSinkParams, { url: 'http://x/hook' }); // defaults filled
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import { Value } from '@sinclair/typebox/value';
import type { ComponentContext, DeadLetter, Sink, SinkRecord } from '../runtime/types.ts';

export type SinkErrorCode =
  | 'E_SINK_PARAMS'
  | 'E_SINK_CLOSED'
  | 'E_JSONL_WRITE'
  | 'E_WEBHOOK_REJECTED'
  | 'E_WEBHOOK_GAVE_UP'
  | 'E_WEBHOOK_ABORTED';

export class SinkError extends Error {
  override readonly name = 'SinkError';
  constructor(
    readonly code: SinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The parts of a ComponentContext a sink uses; `logger` is required, the rest optional for tests. */
export type SinkDeps = Pick<ComponentContext, 'logger'> &
  Partial<Pick<ComponentContext, 'id' | 'metrics' | 'signal' | 'clock'>> & {
    /** Prometheus registry for a sink's own gauges (the outbox's `retimuad_outbox_*`). */
    metricsRegistry?: Registry;
  };

/**
 * A sink's dead-letter writer: stamps each record with the time and a per-sink sequence
 * (`<sink>-<ms>-<n>`, unique even within one millisecond) and caps the raw text at 8 KiB.
 */
export function deadLetterWriter(
  id: string,
  deps: { clock?: ComponentContext['clock']; onDeadLetter?: (dl: DeadLetter) => void | Promise<void> },
): (where: string, reason: string, raw: string) => Promise<void> {
  let seq = 0;
  return async (where, reason, raw) => {
    const now = deps.clock?.now() ?? Date.now();
    await deps.onDeadLetter?.({
      id: `${id}-${now}-${seq++}`,
      time: now,
      component: id,
      where,
      reason,
      raw: raw.slice(0, 8192),
    });
  };
}

export function resolveSinkParams<P extends TObject>(sinkType: string, schema: P, raw: unknown): Static<P> {
  const withDefaults = Value.Default(schema, Value.Clone(raw ?? {}));
  if (Value.Check(schema, withDefaults)) return withDefaults;
  const problems = [...Value.Errors(schema, withDefaults)]
    .slice(0, 10)
    .map((e) => `${e.path || '/'} ${e.message}${e.value === undefined ? '' : `, got ${JSON.stringify(e.value)}`}`);
  throw new SinkError('E_SINK_PARAMS', `${sinkType} sink: ${problems.join('; ')}`);
}

/**
 * The write/close pair of a batching sink whose writes may overlap: close() refuses new writes,
 * waits for those in flight (bounded by their own retries), then aborts whatever still waits.
 */
export function trackedWrites(
  writeAll: (batch: readonly SinkRecord[]) => Promise<void>,
  closing: AbortController,
  closedError: () => Error,
): Pick<Sink, 'write' | 'close'> {
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  return {
    write(batch) {
      if (closed) return Promise.reject(closedError());
      const p = writeAll(batch);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => undefined);
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      closing.abort();
    },
  };
}
