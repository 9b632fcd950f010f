/**
 * Scores detections against the simulator's ground-truth labels: for the correlated
 * (multimodal) incidents and, for comparison, for incidents built from one modality's
 * anomalies alone. Pure: takes labels, anomalies and incidents; the runner does the I/O.
 *
 * Matching: an incident detects a label when their times overlap (the incident starting no
 * later than `grace_secs` after the label ends) and it involves one of the label's assets.
 * Precision = incidents that detect some label / incidents; recall = labels detected / labels;
 * delay = first detecting incident's start − label start (negative: the condition was already
 * anomalous when the scenario's label began, e.g. a precursor).
 *
 * @example
 * const r = scoreScenarios({ labels, anomalies, incidents, correlator: cfg.correlator });
 * r.combined.f1; r.byModality.audio?.f1;
 */
import type { Anomaly, Incident, Label, Modality } from '../schema/events.ts';
import { createCorrelator, type CorrelatorParams } from '../correlator/index.ts';

export interface DetectionScore {
  incidents: number;
  truePositives: number;
  labels: number;
  detected: number;
  precision: number;
  recall: number;
  f1: number;
  /** Median and max detection delay over detected labels, seconds. */
  delayMedianSecs: number | null;
  delayMaxSecs: number | null;
  perLabel: Array<{
    scenario: string;
    start: number;
    detected: boolean;
    delaySecs: number | null;
    /** Detectors in the evidence of the first detecting incident (what caught it). */
    detectors: string[];
    /**
     * First anomaly (warning or worse) on one of the label's assets from the label's start to its
     * end plus grace, minus the start; null if none or the label was not detected. Unlike
     * `delaySecs` it is not shortened by an incident that was already open for something else.
     */
    anomalyDelaySecs: number | null;
  }>;
  /** Incidents that detected no label: false alarms, or consequences the labels do not cover. */
  unmatched: Array<{ id: string; start: number; assets: string[]; explanation: string }>;
}

export interface ScenarioScores {
  combined: DetectionScore;
  byModality: Partial<Record<Modality, DetectionScore>>;
}

export interface ScoreScenariosInput {
  labels: readonly Label[];
  anomalies: readonly Anomaly[];
  /** Final revision of each correlated incident. */
  incidents: readonly Incident[];
  correlator: CorrelatorParams;
  /** Event time at the end of the run (resolves what is still open for the per-modality runs). */
  endTime: number;
  grace_secs?: number;
}

export function scoreDetections(
  labels: readonly Label[],
  incidents: readonly Incident[],
  graceSecs: number,
  anomalies: readonly Anomaly[] = [],
): DetectionScore {
  const grace = graceSecs * 1000;
  const alarms = anomalies.filter((a) => a.severity !== 'info').sort((a, b) => a.time - b.time);
  const hit = new Set<string>();
  const perLabel = labels.map((l) => {
    const matching = incidents
      .filter(
        (i) =>
          i.startTime <= l.endTime + grace &&
          (i.endTime ?? i.lastTime) >= l.startTime &&
          i.assets.some((a) => l.assets.includes(a)),
      )
      .sort((a, b) => a.startTime - b.startTime);
    for (const m of matching) hit.add(m.id);
    const first = matching[0];
    const firstOn = alarms.find(
      (a) => a.time >= l.startTime && a.time <= l.endTime + grace && l.assets.includes(a.asset),
    );
    return {
      scenario: l.scenario,
      start: l.startTime,
      detected: first !== undefined,
      delaySecs: first === undefined ? null : (first.startTime - l.startTime) / 1000,
      detectors: first === undefined ? [] : [...new Set(first.evidence.map((e) => e.detector))],
      anomalyDelaySecs: firstOn === undefined || first === undefined ? null : (firstOn.time - l.startTime) / 1000,
    };
  });
  const detected = perLabel.filter((p) => p.detected).length;
  const precision = incidents.length === 0 ? 0 : hit.size / incidents.length;
  const recall = labels.length === 0 ? 0 : detected / labels.length;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const delays = perLabel.flatMap((p) => (p.delaySecs === null ? [] : [p.delaySecs])).sort((a, b) => a - b);
  return {
    incidents: incidents.length,
    truePositives: hit.size,
    labels: labels.length,
    detected,
    precision,
    recall,
    f1,
    delayMedianSecs: delays.length === 0 ? null : delays[Math.floor((delays.length - 1) / 2)]!,
    delayMaxSecs: delays.length === 0 ? null : delays[delays.length - 1]!,
    perLabel,
    unmatched: incidents
      .filter((i) => !hit.has(i.id))
      .sort((a, b) => a.startTime - b.startTime)
      .map((i) => ({ id: i.id, start: i.startTime, assets: i.assets, explanation: i.explanation })),
  };
}

/** Incidents the same correlator would have raised from one modality's anomalies alone. */
export function singleModalityIncidents(
  anomalies: readonly Anomaly[],
  modality: Modality,
  params: CorrelatorParams,
  endTime: number,
): Incident[] {
  const c = createCorrelator(params);
  const s = c.init();
  const latest = new Map<string, Incident>();
  const sorted = anomalies.filter((a) => a.modality === modality).sort((a, b) => a.time - b.time);
  for (const a of sorted) {
    for (const r of c.tick(s, a.time)) latest.set(r.id, r);
    const inc = c.add(s, a);
    if (inc !== undefined) latest.set(inc.id, inc);
  }
  for (const r of c.tick(s, endTime)) latest.set(r.id, r);
  return [...latest.values()];
}

export function scoreScenarios(input: ScoreScenariosInput): ScenarioScores {
  const grace = input.grace_secs ?? 60;
  const byModality: ScenarioScores['byModality'] = {};
  for (const m of ['reading', 'log', 'audio', 'image'] as const) {
    if (!input.anomalies.some((a) => a.modality === m)) continue;
    const own = input.anomalies.filter((a) => a.modality === m);
    byModality[m] = scoreDetections(
      input.labels,
      singleModalityIncidents(own, m, input.correlator, input.endTime),
      grace,
      own,
    );
  }
  return { combined: scoreDetections(input.labels, input.incidents, grace, input.anomalies), byModality };
}

/** One row per scenario type: how many of its labels each source of detections caught. */
export interface ScenarioSummaryRow {
  scenario: string;
  labels: number;
  /** Labels detected by the correlated incidents. */
  detected: number;
  /** Labels detected by each modality alone. */
  byModality: Partial<Record<Modality, number>>;
  /** Over detected labels: first anomaly on a label asset after the label's start (anomalyDelaySecs). */
  delayMedianSecs: number | null;
  delayMaxSecs: number | null;
}

/** Summarises `scores` per scenario type, in the order scenarios first appear. */
export function summariseByScenario(scores: ScenarioScores): ScenarioSummaryRow[] {
  const rows = new Map<string, ScenarioSummaryRow & { delays: number[] }>();
  for (const p of scores.combined.perLabel) {
    let r = rows.get(p.scenario);
    if (r === undefined) {
      r = {
        scenario: p.scenario,
        labels: 0,
        detected: 0,
        byModality: {},
        delayMedianSecs: null,
        delayMaxSecs: null,
        delays: [],
      };
      rows.set(p.scenario, r);
    }
    r.labels += 1;
    if (p.detected) r.detected += 1;
    if (p.anomalyDelaySecs !== null) r.delays.push(p.anomalyDelaySecs);
  }
  for (const [m, s] of Object.entries(scores.byModality) as Array<[Modality, DetectionScore]>) {
    for (const p of s.perLabel) {
      const r = rows.get(p.scenario);
      if (r !== undefined) r.byModality[m] = (r.byModality[m] ?? 0) + (p.detected ? 1 : 0);
    }
  }
  return [...rows.values()].map(({ delays, ...r }) => {
    const d = [...delays].sort((a, b) => a - b);
    return {
      ...r,
      delayMedianSecs: d.length === 0 ? null : d[Math.floor((d.length - 1) / 2)]!,
      delayMaxSecs: d.length === 0 ? null : d[d.length - 1]!,
    };
  });
}
