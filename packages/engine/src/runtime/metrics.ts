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
  component(id: string, kind: string): ComponentHandle;
  readonly latency: Histogram;
  readonly queueDepth: Gauge;
  readonly openIncidents: Gauge;
  all(): ComponentStats[];
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'retimuad_process_' });
  // Received/emitted are counted for every event: the hot path adds to a plain cell, and the
  // cells are handed to prom-client (which hashes the label set per call) when it collects.
  const receivedCells: CountCell[] = [];
  const emittedCells: CountCell[] = [];
  new Counter({
    name: 'retimuad_component_received_total',
    help: 'Records received by a component',
    labelNames: ['component', 'component_kind', 'record'],
    registers: [registry],
    collect() {
      drainCells(this, receivedCells);
    },
  });
  new Counter({
    name: 'retimuad_component_emitted_total',
    help: 'Records emitted by a component',
    labelNames: ['component', 'component_kind', 'record'],
    registers: [registry],
    collect() {
      drainCells(this, emittedCells);
    },
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
  const queueDepth = new Gauge({
    name: 'retimuad_queue_depth',
    help: 'Events waiting for detection',
    registers: [registry],
  });
  const openIncidents = new Gauge({
    name: 'retimuad_incidents_open',
    help: 'Incidents currently open',
    registers: [registry],
  });
  const stats = new Map<string, ComponentStats>();
  // Handles are made once per component: the pipeline asks for them on hot paths.
  const components = new Map<string, ComponentHandle>();

  return {
    registry,
    latency,
    queueDepth,
    openIncidents,
    all: () => [...stats.values()],
    component(id, kind) {
      const key = `${kind}\u0000${id}`;
      const made = components.get(key);
      if (made !== undefined) return made;
      let s = stats.get(id);
      if (s === undefined) {
        s = { id, kind, received: 0, emitted: 0, discarded: 0, discardedByReason: {} };
        stats.set(id, s);
      }
      const st = s;
      const receivedBy = new Map<string, CountCell>();
      const emittedBy = new Map<string, CountCell>();
      const cell = (cells: CountCell[], by: Map<string, CountCell>, record: string): CountCell => {
        let ce = by.get(record);
        if (ce === undefined) {
          ce = { labels: { component: id, component_kind: kind, record }, n: 0 };
          by.set(record, ce);
          cells.push(ce);
        }
        return ce;
      };
      const c: ComponentHandle = {
        stats: st,
        received(n = 1, record = 'event') {
          st.received += n;
          cell(receivedCells, receivedBy, record).n += n;
        },
        emitted(n = 1, record = 'event') {
          st.emitted += n;
          cell(emittedCells, emittedBy, record).n += n;
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
      components.set(key, c);
      return c;
    },
  };
}

type ComponentHandle = ComponentMetrics & { stats: ComponentStats; error(message: string): void };

/** Counts not yet handed to prom-client for one label set. */
interface CountCell {
  labels: Record<'component' | 'component_kind' | 'record', string>;
  n: number;
}

function drainCells(counter: Counter, cells: readonly CountCell[]): void {
  for (const c of cells) {
    if (c.n === 0) continue;
    counter.inc(c.labels, c.n);
    c.n = 0;
  }
}
