/**
 * `retimuad eval scenarios`: runs the plant simulator's labelled scenarios through a pipeline
 * config offline (as fast as possible, real media, a temporary data directory) and scores the
 * correlated incidents and each single modality against the labels.
 *
 * @example
 * const r = await runScenarioEval({ config, seed: 7, durationSecs: 3600 });
 * formatScenarioReport(r);
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pino from 'pino';
import type { Anomaly, Incident, Label } from '../../../core/src/schema/events.ts';
import {
  scoreScenarios,
  summariseByScenario,
  type DetectionScore,
  type ScenarioScores,
} from '../../../core/src/eval/scenarios.ts';
import type { PipelineConfig } from '../config/load.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { Pipeline } from '../runtime/pipeline.ts';
import { createMediaFeatureStage } from '../runtime/media-features.ts';
import { createModelStage } from '../models/stage.ts';
import { createSimulatorSource, SimulatorSourceParams } from '../sources/simulator/index.ts';
import { createFsBlobStore } from '../storage/blobs.ts';
import type { Sink, SinkRecord, SinkRecordType } from '../runtime/types.ts';
import { Value } from '@sinclair/typebox/value';

export interface ScenarioEvalOptions {
  config: PipelineConfig;
  seed: number;
  durationSecs: number;
  /** Simulated start (epoch ms); default 2026-01-01T00:00:00Z. */
  startTime?: number;
  graceSecs?: number;
}

export interface ScenarioEvalResult extends ScenarioScores {
  seed: number;
  durationSecs: number;
  events: number;
  anomalies: number;
}

class CollectSink implements Sink {
  readonly id = 'eval';
  readonly accepts: ReadonlySet<SinkRecordType> = new Set<SinkRecordType>(['anomaly', 'incident', 'label', 'event']);
  readonly anomalies: Anomaly[] = [];
  readonly incidents = new Map<string, Incident>();
  readonly labels: Label[] = [];
  events = 0;
  lastTime = 0;
  write(batch: readonly SinkRecord[]): Promise<void> {
    for (const r of batch) {
      if (r.type === 'anomaly') this.anomalies.push(r.anomaly);
      else if (r.type === 'incident') {
        const prev = this.incidents.get(r.incident.id);
        if (prev === undefined || prev.revision < r.incident.revision) this.incidents.set(r.incident.id, r.incident);
      } else if (r.type === 'label') this.labels.push(r.label);
      else if (r.type === 'event') {
        this.events++;
        if (r.event.time > this.lastTime) this.lastTime = r.event.time;
      }
    }
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export async function runScenarioEval(opts: ScenarioEvalOptions): Promise<ScenarioEvalResult> {
  const dir = await mkdtemp(join(tmpdir(), 'retimuad-eval-'));
  try {
    const logger = pino({ level: 'silent' });
    const blobs = createFsBlobStore(join(dir, 'blobs'));
    const sim = opts.config.sources.find((s) => s.type === 'simulator');
    const params = Value.Default(SimulatorSourceParams, {
      ...(sim?.options ?? {}),
      seed: opts.seed,
      speed: 'max',
      duration_secs: opts.durationSecs,
      start_time: opts.startTime ?? Date.UTC(2026, 0, 1),
    }) as SimulatorSourceParams;
    const source = createSimulatorSource({ ...params, id: sim?.id ?? 'plant' });
    const sink = new CollectSink();
    const models =
      (opts.config.models ?? []).length > 0
        ? await createModelStage({
            entries: opts.config.models ?? [],
            baseDir: dirname(resolve(opts.config.file)),
            blobs,
            logger,
          })
        : undefined;
    const pipeline = new Pipeline({
      config: { ...opts.config, dataDir: dir, runtime: { ...opts.config.runtime, checkpoint_interval_secs: 0 } },
      sources: [source],
      sinks: [sink],
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
      blobs,
      media: createMediaFeatureStage({ blobs, logger }),
      ...(models !== undefined ? { models } : {}),
      fresh: true,
    });
    await pipeline.start();
    await pipeline.done;
    await pipeline.stop();
    const scores = scoreScenarios({
      labels: sink.labels,
      anomalies: sink.anomalies,
      incidents: [...sink.incidents.values()],
      correlator: opts.config.correlator,
      endTime: sink.lastTime,
      ...(opts.graceSecs !== undefined ? { grace_secs: opts.graceSecs } : {}),
    });
    return {
      ...scores,
      seed: opts.seed,
      durationSecs: opts.durationSecs,
      events: sink.events,
      anomalies: sink.anomalies.length,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function row(name: string, s: DetectionScore): string {
  const d = (x: number | null) => (x === null ? '-' : `${x.toFixed(0)} s`);
  return `${name.padEnd(22)} ${String(s.incidents).padStart(9)} ${s.precision.toFixed(3).padStart(9)} ${s.recall.toFixed(3).padStart(7)} ${s.f1.toFixed(3).padStart(6)} ${`${s.detected}/${s.labels}`.padStart(8)} ${d(s.delayMedianSecs).padStart(12)}`;
}

export function formatScenarioReport(r: ScenarioEvalResult): string {
  const lines = [
    `Simulator scenarios: seed ${r.seed}, ${r.durationSecs} s simulated, ${r.events} events, ${r.anomalies} anomalies`,
    '',
    `${'detections from'.padEnd(22)} ${'incidents'.padStart(9)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'F1'.padStart(6)} ${'detected'.padStart(8)} ${'median delay'.padStart(12)}`,
    row('all modalities (corr.)', r.combined),
    ...Object.entries(r.byModality).map(([m, s]) => row(`${m} only`, s)),
    '',
    ...formatScenarioSummary(r),
    '',
    'per label (correlated incidents; detectors in the first detecting incident):',
    ...r.combined.perLabel.map(
      (p) =>
        `  ${p.scenario.padEnd(20)} ${new Date(p.start).toISOString().slice(11, 19)}  ${p.detected ? `detected, first anomaly after ${p.anomalyDelaySecs === null ? '-' : `${p.anomalyDelaySecs.toFixed(0)} s`}, incident delay ${p.delaySecs?.toFixed(0)} s  [${p.detectors.join(', ')}]` : 'MISSED'}`,
    ),
    '',
    `incidents matching no scenario: ${r.combined.unmatched.length}`,
    ...r.combined.unmatched.map(
      (u) =>
        `  ${new Date(u.start).toISOString().slice(11, 19)} [${u.assets.join(', ')}] ${u.explanation.slice(0, 160)}`,
    ),
  ];
  return lines.join('\n');
}

/** Per scenario type: labels caught by the correlated incidents and by each modality alone, and delays. */
export function formatScenarioSummary(r: ScenarioScores): string[] {
  const rows = summariseByScenario(r);
  const mods = Object.keys(r.byModality) as Array<keyof ScenarioScores['byModality']>;
  const d = (x: number | null) => (x === null ? '-' : `${x.toFixed(0)} s`);
  return [
    'per scenario: labels detected (correlated, each modality alone); delay = first anomaly on a label asset after the label start',
    `${'scenario'.padEnd(20)} ${'corr.'.padStart(6)} ${mods.map((m) => m.padStart(7)).join(' ')} ${'median delay'.padStart(12)} ${'max delay'.padStart(9)}`,
    ...rows.map(
      (x) =>
        `${x.scenario.padEnd(20)} ${`${x.detected}/${x.labels}`.padStart(6)} ${mods.map((m) => `${x.byModality[m] ?? 0}/${x.labels}`.padStart(7)).join(' ')} ${d(x.delayMedianSecs).padStart(12)} ${d(x.delayMaxSecs).padStart(9)}`,
    ),
  ];
}
