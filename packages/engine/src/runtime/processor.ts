/**
 * The processor: routes validated events to detector instances with keyed state, turns
 * findings into anomalies and anomalies into incidents. Synchronous and free of I/O, so the
 * live pipeline, `retimuad score` and `retimuad eval` all share it; event time comes from
 * the events, never from the clock.
 *
 * @example
 * const p = new Processor(cfg.detectors, cfg.correlator);
 * const out: SinkRecord[] = [];
 * p.process(event, out);    // scores, anomalies, incident updates appended to out
 * p.advance(watermark, out); // ticks: silence, incident resolution
 * const snap = p.snapshot(); // JSON checkpoint
 */
import type { Anomaly, Event, Incident, Modality, Scalar } from '../../../core/src/schema/events.ts';
import type { Finding, FindingSink, Observation, StepLabels } from '../../../core/src/detectors/contract.ts';
import { createCorrelator, type Correlator, type CorrelatorParams, type CorrelatorState } from '../../../core/src/correlator/index.ts';
import type { DetectorConfig } from '../config/load.ts';
import type { KeyPart, Selector } from '../config/schema.ts';
import type { SinkRecord } from './types.ts';

export const CHECKPOINT_VERSION = 1;

export interface ProcessorSnapshot {
  version: number;
  watermark: number;
  detectors: Record<string, { type: string; stateVersion: number; states: Record<string, unknown> }>;
  correlator: CorrelatorState;
  /** Latest reading values by "site/asset/metric" (rule fields, operating modes). */
  signals?: Record<string, number>;
}

export class CheckpointError extends Error {
  readonly code = 'E_CHECKPOINT';
}

interface KeyMeta {
  labels: StepLabels;
  site: string;
  asset: string;
  stage: string | undefined;
  /** Last event time seen for this key, for ticks. */
  last: number;
  /** Modality of the key's events (a reading derived from media counts as that medium). */
  modality: Modality;
}

interface Instance {
  cfg: DetectorConfig;
  match: (e: Event) => boolean;
  /** For logs about equipment: the asset named in a field, else undefined (the logging host is used). */
  assetOf: ((e: Event) => string | undefined) | undefined;
  states: Map<string, unknown>;
  meta: Map<string, KeyMeta>;
  /** Parameters per asset, resolved once (overrides applied). */
  paramsByAsset: Map<string, Record<string, unknown>>;
  overrideMatchers: Array<{ test: (s: string) => boolean; params: Record<string, unknown> }>;
}

/** Compiles a glob with `*` into a matcher; a list matches if any item does. */
export function globMatcher(pattern: string | string[] | undefined): (s: string) => boolean {
  if (pattern === undefined) return () => true;
  const list = Array.isArray(pattern) ? pattern : [pattern];
  const res = list.map((p) => new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`));
  return (s) => res.some((r) => r.test(s));
}
function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function selectorMatcher(sel: Selector): (e: Event) => boolean {
  const metric = globMatcher(sel.metric);
  const asset = globMatcher(sel.asset);
  const stage = sel.stage === undefined ? undefined : globMatcher(sel.stage);
  const levels = sel.level === undefined ? undefined : new Set(sel.level);
  const fields = sel.fields === undefined ? undefined : Object.entries(sel.fields);
  return (e) => {
    if (e.kind !== sel.kind) return false;
    if (!asset(e.asset)) return false;
    if (stage !== undefined && !stage(e.stage ?? '')) return false;
    if (e.kind === 'reading' && !metric(e.metric)) return false;
    if (e.kind === 'log') {
      if (levels !== undefined && !levels.has(e.level)) return false;
      if (fields !== undefined && !fields.every(([k, v]) => e.fields[k] === v)) return false;
      if (sel.value_field !== undefined && typeof e.fields[sel.value_field] !== 'number') return false;
    }
    return true;
  };
}

class Collector implements FindingSink {
  readonly list: Finding[] = [];
  finding(f: Finding): void {
    this.list.push(f);
  }
}

export class Processor {
  readonly instances: Instance[];
  private readonly correlator: Correlator;
  private correlatorState: CorrelatorState;
  private watermark = 0;
  private readonly latest = new Map<string, Record<string, Scalar>>();
  /** Process stage of each asset, learned from its readings (to place log findings about equipment). */
  private readonly stages = new Map<string, string>();
  /** Latest value of every reading by "site/asset/metric", for operating-mode keys. */
  private readonly siteSignals = new Map<string, number>();
  private readonly collector = new Collector();
  /** Counts per detector instance, for health. */
  readonly stats = new Map<string, { steps: number; anomalies: number; keys: number }>();

  constructor(detectors: DetectorConfig[], correlator: CorrelatorParams) {
    this.instances = detectors.map((cfg) => ({
      cfg,
      match: selectorMatcher(cfg.select ?? { kind: 'reading' }),
      assetOf: assetExtractor(cfg.select),
      states: new Map(),
      meta: new Map(),
      paramsByAsset: new Map(),
      overrideMatchers: cfg.overrides.map((o) => ({ test: globMatcher(o.asset), params: o.params })),
    }));
    for (const d of detectors) this.stats.set(d.id, { steps: 0, anomalies: 0, keys: 0 });
    this.correlator = createCorrelator(correlator);
    this.correlatorState = this.correlator.init();
  }

  get eventTime(): number {
    return this.watermark;
  }

  openIncidents(): Incident[] {
    return Object.values(this.correlatorState.open);
  }

  /** Processes one validated event; appends everything it produced to `out`. */
  process(e: Event, out: SinkRecord[]): void {
    if (e.time > this.watermark) this.watermark = e.time;
    const assetKey = `${e.site}/${e.asset}`;
    let signals = this.latest.get(assetKey);
    if (signals === undefined) {
      signals = {};
      this.latest.set(assetKey, signals);
    }
    if (e.stage !== undefined && e.kind === 'reading') this.stages.set(assetKey, e.stage);
    if (e.kind === 'reading') {
      signals[e.metric] = e.value;
      this.siteSignals.set(`${e.site}/${e.asset}/${e.metric}`, e.value);
    }

    for (const inst of this.instances) {
      if (!inst.match(e)) continue;
      const value = observedValue(e, inst.cfg.select);
      if (value === undefined) continue;
      const asset = inst.assetOf?.(e) ?? e.asset;
      const base = keyOf(e, asset, inst.cfg.key);
      const key = inst.cfg.mode_signals === undefined ? base : `${base}|mode=${this.mode(e.site, inst.cfg.mode_signals)}`;
      const params = this.paramsFor(inst, asset);
      let state = inst.states.get(key);
      let meta = inst.meta.get(key);
      if (state === undefined || meta === undefined) {
        state = inst.cfg.def.init(params);
        inst.states.set(key, state);
        meta = {
          labels: { key, metric: e.kind === 'reading' ? e.metric : (inst.cfg.select?.value_field ?? `${e.kind} events`), unit: e.kind === 'reading' ? e.unit : '' },
          site: e.site,
          asset,
          stage: asset === e.asset ? e.stage : (this.stages.get(`${e.site}/${asset}`) ?? e.stage),
          last: e.time,
          modality: modalityOf(e),
        };
        inst.meta.set(key, meta);
        this.stat(inst).keys++;
      }
      meta.last = e.time;
      const fields: Record<string, Scalar> =
        e.kind === 'log' ? { ...signals, ...e.fields, level: e.level, message: e.message } : signals;
      const obs: Observation = { time: e.time, value, fields };
      this.collector.list.length = 0;
      const score = inst.cfg.def.step(params, state, obs, this.collector, meta.labels);
      this.stat(inst).steps++;
      if (score !== null && score >= inst.cfg.min_score_to_store) {
        out.push({
          type: 'score',
          score: { time: e.time, site: e.site, asset: e.asset, detector: inst.cfg.id, metric: meta.labels.metric, score },
        });
      }
      if (this.collector.list.length > 0) this.emitFindings(inst, meta, e.time, score, e, out);
    }
  }

  /** Advances event time with no input: detector ticks (silence, dips) and incident resolution. */
  advance(now: number, out: SinkRecord[]): void {
    if (now > this.watermark) this.watermark = now;
    for (const inst of this.instances) {
      const def = inst.cfg.def;
      if (def.tick === undefined) continue;
      for (const [key, state] of inst.states) {
        const meta = inst.meta.get(key);
        if (meta === undefined) continue;
        this.collector.list.length = 0;
        const score = def.tick(this.paramsFor(inst, meta.asset), state, this.watermark, this.collector, meta.labels);
        if (this.collector.list.length > 0) this.emitFindings(inst, meta, this.watermark, score, undefined, out);
      }
    }
    for (const inc of this.correlator.tick(this.correlatorState, this.watermark)) out.push({ type: 'incident', incident: inc });
  }

  private emitFindings(inst: Instance, meta: KeyMeta, time: number, score: number | null, e: Event | undefined, out: SinkRecord[]): void {
    this.collector.list.forEach((f, n) => {
      const anomaly: Anomaly = {
        id: `${inst.cfg.id}|${meta.labels.key}|${e?.id ?? `t${time}`}|${n}`,
        time,
        site: meta.site,
        asset: meta.asset,
        detector: inst.cfg.id,
        detectorType: inst.cfg.def.type,
        modality: e === undefined ? (meta.modality ?? inst.cfg.select?.kind ?? 'reading') : modalityOf(e),
        metric: meta.labels.metric,
        score: score ?? (f.severity === 'info' ? 0 : 1),
        severity: f.severity,
        reason: f.reason,
      };
      if (meta.stage !== undefined) anomaly.stage = meta.stage;
      if (e !== undefined) anomaly.eventId = e.kind === 'reading' && e.derivedFrom !== undefined ? e.derivedFrom.id : e.id;
      if (e?.kind === 'reading') anomaly.value = e.value;
      if (f.detail !== undefined) anomaly.detail = f.detail;
      this.stat(inst).anomalies++;
      out.push({ type: 'anomaly', anomaly });
      // Clearing notices (info) say a condition ended; they never open an incident.
      const inc = this.correlator.add(this.correlatorState, anomaly);
      if (inc !== undefined) out.push({ type: 'incident', incident: inc });
    });
  }

  /** The operating mode: current values of the mode signals ("?" until a signal has been seen). */
  private mode(site: string, signals: string[]): string {
    let m = '';
    for (const sig of signals) {
      const v = this.siteSignals.get(`${site}/${sig}`);
      m += `${m === '' ? '' : ','}${v === undefined ? '?' : v}`;
    }
    return m;
  }

  private paramsFor(inst: Instance, asset: string): Record<string, unknown> {
    let p = inst.paramsByAsset.get(asset);
    if (p === undefined) {
      p = inst.overrideMatchers.find((o) => o.test(asset))?.params ?? inst.cfg.params;
      inst.paramsByAsset.set(asset, p);
    }
    return p;
  }

  private stat(inst: Instance) {
    return this.stats.get(inst.cfg.id)!;
  }

  snapshot(): ProcessorSnapshot {
    const detectors: ProcessorSnapshot['detectors'] = {};
    for (const inst of this.instances) {
      const states: Record<string, unknown> = {};
      for (const [k, s] of inst.states) {
        const meta = inst.meta.get(k);
        states[k] = { s, m: meta === undefined ? undefined : { ...meta, labels: { ...meta.labels } } };
      }
      detectors[inst.cfg.id] = { type: inst.cfg.def.type, stateVersion: inst.cfg.def.stateVersion, states };
    }
    return {
      version: CHECKPOINT_VERSION,
      watermark: this.watermark,
      detectors,
      correlator: structuredClone(this.correlatorState),
      signals: Object.fromEntries(this.siteSignals),
    };
  }

  /** Restores from a checkpoint. Detectors absent from it start fresh; a type or state-version mismatch is an error. */
  restore(snap: ProcessorSnapshot): { restored: string[]; fresh: string[] } {
    if (snap.version !== CHECKPOINT_VERSION) {
      throw new CheckpointError(`checkpoint version ${snap.version} is not supported (expected ${CHECKPOINT_VERSION})`);
    }
    const restored: string[] = [];
    const fresh: string[] = [];
    for (const inst of this.instances) {
      const saved = snap.detectors[inst.cfg.id];
      if (saved === undefined) {
        fresh.push(inst.cfg.id);
        continue;
      }
      if (saved.type !== inst.cfg.def.type || saved.stateVersion !== inst.cfg.def.stateVersion) {
        throw new CheckpointError(
          `checkpoint for detector "${inst.cfg.id}" holds ${saved.type} state v${saved.stateVersion}, config wants ${inst.cfg.def.type} v${inst.cfg.def.stateVersion}; start with --fresh to discard it`,
        );
      }
      for (const [k, v] of Object.entries(saved.states)) {
        const { s, m } = v as { s: unknown; m: KeyMeta | undefined };
        if (m === undefined) continue;
        inst.states.set(k, s);
        inst.meta.set(k, m);
      }
      this.stat(inst).keys = inst.states.size;
      restored.push(inst.cfg.id);
    }
    this.correlatorState = this.correlator.restore(structuredClone(snap.correlator));
    for (const [k, v] of Object.entries(snap.signals ?? {})) {
      this.siteSignals.set(k, v);
      const cut = k.lastIndexOf('/');
      const assetKey = k.slice(0, cut);
      const rec = this.latest.get(assetKey) ?? {};
      rec[k.slice(cut + 1)] = v;
      this.latest.set(assetKey, rec);
    }
    this.watermark = snap.watermark;
    return { restored, fresh };
  }
}

/** A reading derived from media keeps the modality it came from: audio features are audio evidence. */
function modalityOf(e: Event): Modality {
  return e.kind === 'reading' && e.derivedFrom !== undefined ? e.derivedFrom.kind : e.kind;
}

function observedValue(e: Event, sel: Selector | undefined): number | undefined {
  switch (e.kind) {
    case 'reading':
      return e.value;
    case 'log': {
      if (sel?.value_field === undefined) return 1;
      const v = e.fields[sel.value_field];
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    }
    case 'audio':
    case 'image':
      return 1;
  }
}

function assetExtractor(sel: Selector | undefined): Instance['assetOf'] {
  const field = sel?.asset_field;
  if (field === undefined) return undefined;
  const re = new RegExp(sel?.asset_pattern ?? '^([A-Za-z]+)-?(\\d+)');
  return (e) => {
    if (e.kind !== 'log') return undefined;
    const v = e.fields[field];
    if (typeof v !== 'string') return undefined;
    const m = re.exec(v);
    if (m === null) return undefined;
    const name = m.length > 1 ? m.slice(1).filter((g) => g !== undefined).join('-') : m[0];
    return /^[A-Za-z0-9_.:/-]{1,128}$/.test(name) ? name : undefined;
  };
}

function keyOf(e: Event, asset: string, parts: KeyPart[]): string {
  let k = '';
  for (const p of parts) {
    const v = p === 'site' ? e.site : p === 'asset' ? asset : p === 'stage' ? (e.stage ?? '') : e.kind === 'reading' ? e.metric : '';
    k = k === '' ? v : `${k}/${v}`;
  }
  return k === '' ? '*' : k;
}
