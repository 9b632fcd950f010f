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
  perLabel: Array<{ scenario: string; start: number; detected: boolean; delaySecs: number | null }>;
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

export function scoreDetections(labels: readonly Label[], incidents: readonly Incident[], graceSecs: number): DetectionScore {
  const grace = graceSecs * 1000;
  const hit = new Set<string>();
  const perLabel = labels.map((l) => {
    const matching = incidents
      .filter((i) => i.startTime <= l.endTime + grace && (i.endTime ?? i.lastTime) >= l.startTime && i.assets.some((a) => l.assets.includes(a)))
      .sort((a, b) => a.startTime - b.startTime);
    for (const m of matching) hit.add(m.id);
    const first = matching[0];
    return {
      scenario: l.scenario,
      start: l.startTime,
      detected: first !== undefined,
      delaySecs: first === undefined ? null : (first.startTime - l.startTime) / 1000,
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
export function singleModalityIncidents(anomalies: readonly Anomaly[], modality: Modality, params: CorrelatorParams, endTime: number): Incident[] {
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
    byModality[m] = scoreDetections(input.labels, singleModalityIncidents(input.anomalies, m, input.correlator, input.endTime), grace);
  }
  return { combined: scoreDetections(input.labels, input.incidents, grace), byModality };
}
