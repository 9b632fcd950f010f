/**
 * Prometheus metrics with one naming scheme: every component counts what it received,
 * emitted and discarded (with a reason), after Vector's instrumentation spec. The same
 * counts are kept in memory for the health report.
 *
 * @example
 * const m = createMetrics();
 * const src = m.component('plant', 'source');
 * src.received(1, 'reading');
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ComponentMetrics } from './types.ts';

export interface ComponentStats {
  id: string;
  kind: string;
  received: number;
  emitted: number;
  discarded: number;
  discardedByReason: Record<string, number>;
  lastError?: string;
}

export interface Metrics {
  readonly registry: Registry;
  component(id: string, kind: string): ComponentMetrics & { stats: ComponentStats; error(message: string): void };
  readonly latency: Histogram;
  readonly queueDepth: Gauge;
  readonly openIncidents: Gauge;
  all(): ComponentStats[];
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'retimuad_process_' });
  const received = new Counter({
    name: 'retimuad_component_received_total',
    help: 'Records received by a component',
    labelNames: ['component', 'component_kind', 'record'],
    registers: [registry],
  });
  const emitted = new Counter({
    name: 'retimuad_component_emitted_total',
    help: 'Records emitted by a component',
    labelNames: ['component', 'component_kind', 'record'],
    registers: [registry],
  });
  const discarded = new Counter({
    name: 'retimuad_component_discarded_total',
    help: 'Records a component rejected or could not deliver, by reason (all kept as dead letters)',
    labelNames: ['component', 'component_kind', 'reason'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'retimuad_component_errors_total',
    help: 'Errors raised by a component',
    labelNames: ['component', 'component_kind'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'retimuad_event_latency_seconds',
    help: 'Time from ingest to the end of detection for an event',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const queueDepth = new Gauge({ name: 'retimuad_queue_depth', help: 'Events waiting for detection', registers: [registry] });
  const openIncidents = new Gauge({ name: 'retimuad_incidents_open', help: 'Incidents currently open', registers: [registry] });
  const stats = new Map<string, ComponentStats>();

  return {
    registry,
    latency,
    queueDepth,
    openIncidents,
    all: () => [...stats.values()],
    component(id, kind) {
      let s = stats.get(id);
      if (s === undefined) {
        s = { id, kind, received: 0, emitted: 0, discarded: 0, discardedByReason: {} };
        stats.set(id, s);
      }
      const st = s;
      return {
        stats: st,
        received(n = 1, record = 'event') {
          st.received += n;
          received.inc({ component: id, component_kind: kind, record }, n);
        },
        emitted(n = 1, record = 'event') {
          st.emitted += n;
          emitted.inc({ component: id, component_kind: kind, record }, n);
        },
        discarded(reason, n = 1) {
          st.discarded += n;
          st.discardedByReason[reason] = (st.discardedByReason[reason] ?? 0) + n;
          discarded.inc({ component: id, component_kind: kind, reason }, n);
        },
        error(message) {
          st.lastError = message;
          errors.inc({ component: id, component_kind: kind });
        },
      };
    },
  };
}
