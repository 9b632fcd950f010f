/**
 * The correlator: turns anomalies into incidents. Pure and checkpointable.
 *
 * Anomalies of the same correlation group (by default: same site and process stage; or
 * explicit groups of related assets; or the asset alone) that arrive within `window_secs`
 * of each other join one incident. An incident resolves when its group has been quiet for
 * `resolve_after_secs` of event time. One incident per ongoing condition, not one per point.
 *
 * Incident ids are derived from the group and the first anomaly's id, so a replay or a
 * restart from a checkpoint produces the same ids and never duplicates an incident.
 *
 * @example
 * const c = createCorrelator({ window_secs: 120, resolve_after_secs: 300 });
 * let s = c.init();
 * const updates = c.add(s, anomaly);      // incidents opened or updated
 * const resolved = c.tick(s, watermark);  // incidents whose condition cleared
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Anomaly, Incident, Modality, Severity } from '../schema/events.ts';
import { fnv1a64Hex } from '../util/hash.ts';

export const CorrelatorParams = Type.Object(
  {
    window_secs: Type.Number({
      minimum: 0,
      default: 120,
      description: 'An anomaly joins an open incident of its group if it comes within this many seconds of the last one.',
    }),
    resolve_after_secs: Type.Number({
      minimum: 0,
      default: 180,
      description: 'An incident resolves when its group has had no anomaly for this long (event time).',
    }),
    group_by: Type.Union([Type.Literal('stage'), Type.Literal('asset'), Type.Literal('site')], {
      default: 'stage',
      description: 'Which anomalies belong together: same process stage (default), same asset, or the whole site.',
    }),
    related: Type.Array(Type.Array(Type.String(), { minItems: 2 }), {
      default: [],
      description: 'Extra groups of related assets, e.g. [[P-101, T-101, cam-intake]]; they correlate whatever their stage.',
    }),
    min_severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], {
      default: 'warning',
      description: 'Anomalies below this severity may join an incident but never open one.',
    }),
    max_evidence: Type.Integer({ minimum: 1, maximum: 200, default: 24, description: 'Anomalies kept as evidence per incident.' }),
  },
  { additionalProperties: false },
);
export type CorrelatorParams = Static<typeof CorrelatorParams>;

export interface CorrelatorState {
  version: 1;
  /** Open incidents by group key. */
  open: Record<string, Incident>;
  /** Highest event time seen. */
  watermark: number;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export interface Correlator {
  readonly params: CorrelatorParams;
  init(): CorrelatorState;
  /** Adds an anomaly; returns the incident it opened or updated (a snapshot), or undefined if it opened none. */
  add(state: CorrelatorState, a: Anomaly): Incident | undefined;
  /** Advances event time; returns incidents that resolved. */
  tick(state: CorrelatorState, now: number): Incident[];
  /** Validates a restored state; throws with a clear message if it is not one of ours. */
  restore(raw: unknown): CorrelatorState;
}

export function createCorrelator(params: CorrelatorParams): Correlator {
  const relatedIndex = new Map<string, string>();
  params.related.forEach((group, i) => {
    for (const asset of group) relatedIndex.set(asset, `related-${i}`);
  });

  function groupKey(a: Anomaly): string {
    const rel = relatedIndex.get(a.asset);
    if (rel !== undefined) return `${a.site}|${rel}`;
    switch (params.group_by) {
      case 'asset':
        return `${a.site}|asset:${a.asset}`;
      case 'site':
        return `${a.site}|site`;
      case 'stage':
        return a.stage !== undefined ? `${a.site}|stage:${a.stage}` : `${a.site}|asset:${a.asset}`;
    }
  }

  function open(key: string, a: Anomaly): Incident {
    const inc: Incident = {
      id: `inc-${fnv1a64Hex(`${key}|${a.id}`)}`,
      site: a.site,
      assets: [a.asset],
      status: 'open',
      severity: a.severity,
      modalities: [a.modality],
      startTime: a.time,
      lastTime: a.time,
      anomalyCount: 1,
      evidence: [a],
      explanation: '',
      peakScore: a.score,
      revision: 1,
    };
    if (a.stage !== undefined) inc.stage = a.stage;
    inc.explanation = explain(inc);
    return inc;
  }

  function attach(inc: Incident, a: Anomaly): void {
    if (!inc.assets.includes(a.asset)) inc.assets.push(a.asset);
    if (!inc.modalities.includes(a.modality)) inc.modalities.push(a.modality);
    inc.lastTime = Math.max(inc.lastTime, a.time);
    inc.anomalyCount += 1;
    inc.peakScore = Math.max(inc.peakScore, a.score);
    if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[inc.severity]) inc.severity = a.severity;
    // Several modalities agreeing is stronger evidence than any one alone.
    const physical = inc.modalities.filter((m) => m !== 'batch').length;
    if (physical >= 2 && inc.severity === 'warning') inc.severity = 'critical';
    addEvidence(inc, a, params.max_evidence);
    inc.explanation = explain(inc);
    inc.revision += 1;
  }

  return {
    params,
    init: () => ({ version: 1, open: {}, watermark: 0 }),
    add(state, a) {
      if (a.time > state.watermark) state.watermark = a.time;
      const key = groupKey(a);
      const current = state.open[key];
      if (current !== undefined && a.time - current.lastTime <= params.window_secs * 1000) {
        attach(current, a);
        return structuredClone(current);
      }
      if (SEVERITY_RANK[a.severity] < SEVERITY_RANK[params.min_severity]) return undefined;
      if (current !== undefined) {
        // The old condition went quiet longer than the window: it is over; resolve it before opening anew.
        // (tick normally resolves it first; this covers anomalies arriving before a tick.)
        delete state.open[key];
      }
      const inc = open(key, a);
      state.open[key] = inc;
      return structuredClone(inc);
    },
    tick(state, now) {
      if (now > state.watermark) state.watermark = now;
      const resolved: Incident[] = [];
      for (const [key, inc] of Object.entries(state.open)) {
        if (state.watermark - inc.lastTime >= params.resolve_after_secs * 1000) {
          inc.status = 'resolved';
          inc.endTime = inc.lastTime;
          inc.revision += 1;
          inc.explanation = explain(inc);
          delete state.open[key];
          resolved.push(inc);
        }
      }
      return resolved;
    },
    restore(raw) {
      if (typeof raw !== 'object' || raw === null) throw new Error('correlator state: expected an object');
      const s = raw as Partial<CorrelatorState>;
      if (s.version !== 1) throw new Error(`correlator state: version ${String(s.version)} is not supported (expected 1)`);
      if (typeof s.open !== 'object' || s.open === null || typeof s.watermark !== 'number') {
        throw new Error('correlator state: expected fields open (object) and watermark (number)');
      }
      return s as CorrelatorState;
    },
  };
}

/** Keeps the first anomaly, the strongest and the latest of each detector, within a bound. */
function addEvidence(inc: Incident, a: Anomaly, max: number): void {
  const ev = inc.evidence;
  const sameDetector = ev.findIndex((e, i) => i > 0 && e.detector === a.detector && e.asset === a.asset);
  if (sameDetector >= 0) {
    const prev = ev[sameDetector]!;
    // Keep the strongest of a detector; a later but weaker one replaces it only if it adds a newer reason.
    if (a.score >= prev.score) ev[sameDetector] = a;
    return;
  }
  if (ev.length < max) {
    ev.push(a);
    return;
  }
  // Full: replace the weakest non-first entry if the new one is stronger.
  let weakest = 1;
  for (let i = 2; i < ev.length; i++) if (ev[i]!.score < ev[weakest]!.score) weakest = i;
  const w = ev[weakest];
  if (w !== undefined && a.score > w.score) ev[weakest] = a;
}

const MODALITY_NAME: Record<Modality | 'batch', string> = {
  reading: 'sensors',
  log: 'logs',
  audio: 'audio',
  image: 'camera',
  batch: 'batch analysis',
};

function explain(inc: Incident): string {
  const where = inc.stage !== undefined ? `${inc.stage} stage (${inc.assets.join(', ')})` : inc.assets.join(', ');
  const secs = Math.round((inc.lastTime - inc.startTime) / 1000);
  const mods = inc.modalities.map((m) => MODALITY_NAME[m]).join(' + ');
  const strongest = [...inc.evidence].sort((x, y) => y.score - x.score).slice(0, 3);
  const reasons = strongest.map((e) => `${e.asset}: ${e.reason}`).join('; ');
  const state = inc.status === 'resolved' ? 'Resolved: ' : '';
  return `${state}${inc.anomalyCount} anomal${inc.anomalyCount === 1 ? 'y' : 'ies'} in the ${where} over ${secs} s from ${mods}. ${reasons}`;
}
