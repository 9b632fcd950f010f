/**
 * log_template_rate: spikes and dips in how often each log template occurs, and bursts of
 * error-level lines. Lines are counted per template (mined online, the miner kept in the state)
 * in buckets of `bucket_secs` of event time; each template keeps an exponentially weighted mean
 * and variance of its count per bucket. A count above mean + `threshold_z` standard deviations
 * (at least `min_spike_count`) is a spike, reported as soon as the count crosses the bound; a
 * bucket closing below mean − `dip_z` deviations, for a template expected at least
 * `min_dip_expected` times, is a dip (silence is noticed through `tick`). Error-level lines
 * (`error_levels`) form one more series judged for spikes. Deviations are at least √mean
 * (Poisson counts), so rare templates do not alarm on small wobbles.
 *
 * Score: z / (z + threshold_z) of the worst deviation judged in this call (0.5 at the threshold),
 * 0 otherwise; null until `warmup_buckets` buckets have closed.
 * Cost: O(1) per line; O(templates) per closed bucket.
 *
 * @example
 * const p = resolveParams(logTemplateRate, { bucket_secs: 60 });
 * const s = logTemplateRate.init(p);
 * logTemplateRate.step(p, s, { time, value: 1, fields: { message: 'Failed password for root from 10.0.0.9 port 4022 ssh2', level: 'warn' } }, out, labels);
 * // finding: 'scada: template #3 "Failed password for <*> from <IP> port <NUM> ssh2" 40 lines in 60 s, expected 0.8'
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef, type FindingSink, type Observation, type StepLabels } from '../contract.ts';
import { initMiner, mine, minerParamFields, templateText, type MinerState } from '../../logs/miner.ts';
import { messageOf } from './common.ts';

const Level = Type.Union(
  ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical', 'alert', 'emergency'].map((l) => Type.Literal(l)),
);

export const LogTemplateRateParams = Type.Object(
  {
    ...minerParamFields,
    bucket_secs: Type.Number({
      exclusiveMinimum: 0,
      default: 60,
      description: 'Counting bucket length in seconds of event time.',
    }),
    baseline_buckets: Type.Number({
      minimum: 1,
      default: 30,
      description: 'Memory of the baseline in buckets (EWMA weight 2 / (baseline_buckets + 1)).',
    }),
    warmup_buckets: Type.Integer({
      minimum: 0,
      default: 10,
      description: 'Buckets a series (a template, or the error level) must have been counted before it is judged.',
    }),
    threshold_z: Type.Number({
      exclusiveMinimum: 0,
      default: 4,
      description: 'A count this many deviations above the mean is a spike.',
    }),
    dip_z: Type.Number({
      exclusiveMinimum: 0,
      default: 3,
      description: 'A closed bucket this many deviations below the mean is a dip.',
    }),
    min_spike_count: Type.Integer({
      minimum: 1,
      default: 5,
      description: 'Fewest lines in a bucket for a spike (in lines).',
    }),
    min_dip_expected: Type.Number({
      minimum: 0,
      default: 5,
      description: 'Fewest expected lines per bucket for a dip to be judged.',
    }),
    error_levels: Type.Array(Level, {
      default: ['error', 'critical', 'alert', 'emergency'],
      description: 'Levels counted as one error-level series judged for bursts; [] turns it off.',
    }),
  },
  { additionalProperties: false },
);
export type LogTemplateRateParams = Static<typeof LogTemplateRateParams>;

export interface RateSeries {
  /** EWMA mean and variance of the count per bucket. */
  m: number;
  v: number;
  /** Count in the current bucket. */
  c: number;
  /** Buckets closed since the series appeared. */
  age: number;
  /** A spike was already reported in the current bucket. */
  hit: boolean;
}

export interface LogTemplateRateState {
  miner: MinerState;
  /** Index of the current bucket (floor(time / bucket)), null before the first line. */
  bucket: number | null;
  /** Buckets closed. */
  closed: number;
  /** Series by key: `t<template id>`, or `level` for error-level lines. */
  series: Record<string, RateSeries>;
}

/** Beyond this many empty buckets in a gap, the rest are folded into one decay step. */
const MAX_EMPTY_BUCKETS = 1000;

const sdOf = (r: RateSeries): number => Math.sqrt(Math.max(r.v, r.m, 0.25));

function seriesName(s: LogTemplateRateState, key: string): string {
  if (key === 'level') return 'error-level lines';
  const id = Number(key.slice(1));
  const t = templateText(s.miner, id);
  return `template #${id} "${t === undefined ? '(forgotten)' : t.length > 100 ? `${t.slice(0, 99)}…` : t}"`;
}

function closeBucket(
  p: LogTemplateRateParams,
  s: LogTemplateRateState,
  out: FindingSink,
  labels: StepLabels,
  judge: boolean,
): number {
  const alpha = 2 / (p.baseline_buckets + 1);
  let worst = 0;
  for (const key in s.series) {
    const r = s.series[key]!;
    if (judge && key !== 'level' && r.age >= p.warmup_buckets && r.m >= p.min_dip_expected) {
      const sd = sdOf(r);
      const z = (r.m - r.c) / sd;
      if (z >= p.dip_z) {
        out.finding({
          severity: 'warning',
          reason: `${labels.key}: ${seriesName(s, key)} ${r.c} lines in ${fmt(p.bucket_secs)} s, expected ${fmt(r.m)}`,
          detail: { series: key, count: r.c, expected: r.m, z },
        });
        worst = Math.max(worst, z / (z + p.dip_z));
      }
    }
    const d = r.c - r.m;
    if (r.age === 0) r.m = r.c;
    else {
      r.m += alpha * d;
      r.v = (1 - alpha) * (r.v + alpha * d * d);
    }
    r.age++;
    r.c = 0;
    r.hit = false;
    if (r.m < 1e-3 && r.age > p.warmup_buckets) delete s.series[key];
  }
  s.closed++;
  return worst;
}

/** Closes every bucket before `bucket`; returns the worst dip score. */
function advanceTo(
  p: LogTemplateRateParams,
  s: LogTemplateRateState,
  bucket: number,
  out: FindingSink,
  labels: StepLabels,
): number {
  if (s.bucket === null) {
    s.bucket = bucket;
    return 0;
  }
  let worst = 0;
  const gap = bucket - s.bucket;
  if (gap <= 0) return 0;
  const judged = Math.min(gap, MAX_EMPTY_BUCKETS);
  for (let k = 0; k < judged; k++) worst = Math.max(worst, closeBucket(p, s, out, labels, k === 0 || k === 1));
  const rest = gap - judged;
  if (rest > 0) {
    // A very long silence: decay the baselines in one step (no findings beyond the first buckets).
    const keep = Math.pow(1 - 2 / (p.baseline_buckets + 1), rest);
    for (const key in s.series) {
      const r = s.series[key]!;
      r.m *= keep;
      r.v *= keep;
      r.age += rest;
    }
    s.closed += rest;
  }
  s.bucket = bucket;
  return worst;
}

function count(
  p: LogTemplateRateParams,
  s: LogTemplateRateState,
  key: string,
  out: FindingSink,
  labels: StepLabels,
): number {
  let r = s.series[key];
  if (r === undefined) r = s.series[key] = { m: 0, v: 0, c: 0, age: 0, hit: false };
  r.c++;
  if (r.hit || r.age < p.warmup_buckets || r.c < p.min_spike_count) return 0;
  const sd = sdOf(r);
  const z = (r.c - r.m) / sd;
  if (z < p.threshold_z) return 0;
  r.hit = true;
  out.finding({
    severity: key === 'level' ? 'critical' : 'warning',
    reason: `${labels.key}: ${seriesName(s, key)} ${r.c} lines in ${fmt(p.bucket_secs)} s, expected ${fmt(r.m)}`,
    detail: { series: key, count: r.c, expected: r.m, z },
  });
  return z / (z + p.threshold_z);
}

export const logTemplateRate: DetectorDef<typeof LogTemplateRateParams, LogTemplateRateState, Observation> = {
  type: 'log_template_rate',
  summary: 'Spikes and dips in the count per bucket of each log template, and bursts of error-level lines.',
  params: LogTemplateRateParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: log-template-rate
  type: log_template_rate
  select: { kind: log }
  key: [site, asset]
  params: { bucket_secs: 60, threshold_z: 4, error_levels: [error, critical] }
`,
  init() {
    return { miner: initMiner(), bucket: null, closed: 0, series: {} };
  },
  step(p, s, x, out, labels) {
    const bucket = Math.floor(x.time / (p.bucket_secs * 1000));
    let score = advanceTo(p, s, bucket, out, labels);
    const r = mine(p, s.miner, messageOf(x));
    score = Math.max(score, count(p, s, `t${r.id}`, out, labels));
    const level = x.fields.level;
    if (typeof level === 'string' && p.error_levels.includes(level))
      score = Math.max(score, count(p, s, 'level', out, labels));
    return s.closed < p.warmup_buckets ? null : score;
  },
  tick(p, s, now, out, labels) {
    if (s.bucket === null) return null;
    const score = advanceTo(p, s, Math.floor(now / (p.bucket_secs * 1000)), out, labels);
    return s.closed < p.warmup_buckets ? null : score;
  },
};
