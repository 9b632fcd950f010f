/**
 * count_rate: event-rate spikes and dips against a learned per-key baseline, over fixed
 * `bucket_secs` buckets aligned to the epoch, plus silence detection.
 *
 * Each event adds its value to the current bucket (the runtime passes 1 for a counted event).
 * The baseline is an EMA of bucket counts with a robust spread (EMA of absolute deviations,
 * floored at √mean, the Poisson noise of a count, and at `min_spread`). A spike is raised as soon
 * as the open bucket's count gets `threshold_z` σ above the baseline (once per bucket); a dip when
 * a bucket closes that far below it. `tick` closes buckets that ended with no event and raises a
 * silence finding when nothing arrived for `silence_secs` (an info finding when events resume).
 *
 * @example
 * const p = resolveParams(countRate, { bucket_secs: 60, silence_secs: 300 });
 * // "events 120 in 60 s, usually 40 (8.1σ above)"   "no events for 300 s"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, squash, type DetectorDef, type FindingSink, type Observation, type StepLabels } from '../contract.ts';
import { Direction } from '../ema_baseline/index.ts';
import { MEAN_ABS_DEV_TO_SIGMA, zOf } from '../ema_baseline/deviation.ts';

export const CountRateParams = Type.Object(
  {
    bucket_secs: Type.Number({
      minimum: 0.001,
      default: 60,
      description: 'Bucket length in seconds (aligned to the epoch, whole ms).',
    }),
    half_life_buckets: Type.Number({
      exclusiveMinimum: 0,
      default: 30,
      description: 'Half-life of the learned baseline, in buckets.',
    }),
    min_buckets: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Warm-up: complete buckets learned before spikes and dips are judged (null score until then).',
    }),
    threshold_z: Type.Number({
      exclusiveMinimum: 0,
      default: 4,
      description: 'A spike or dip is this many σ from the baseline; score is 0.5 there.',
    }),
    clip_z: Type.Number({
      minimum: 0,
      default: 5,
      description: 'Bucket counts beyond this many σ are clipped before the baseline learns them; 0 disables.',
    }),
    min_spread: Type.Number({
      minimum: 0,
      default: 1,
      description: 'Floor for the spread (σ estimate), in counts per bucket.',
    }),
    direction: Direction,
    silence_secs: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Raise a finding when no event arrived for this many seconds (checked by tick); 0 disables.',
    }),
  },
  { additionalProperties: false },
);
export type CountRateParams = Static<typeof CountRateParams>;

export const CountRateState = Type.Object(
  {
    bucketStart: Type.Number({ description: 'Start of the open bucket (epoch ms); -1 before the first event.' }),
    count: Type.Number({ description: 'Sum of values in the open bucket.' }),
    partial: Type.Boolean({
      description: 'The open bucket is the first one, which started before the first event: not learned.',
    }),
    spiked: Type.Boolean({ description: 'A spike finding was already raised for the open bucket.' }),
    mean: Type.Number(),
    dev: Type.Number({ minimum: 0 }),
    devWeight: Type.Number({ minimum: 0, maximum: 1 }),
    learned: Type.Integer({ minimum: 0, description: 'Complete buckets learned (capped).' }),
    lastEvent: Type.Number({ description: 'Event time of the latest event; -1 before the first.' }),
    silent: Type.Boolean({ description: 'A silence finding is open.' }),
  },
  { additionalProperties: false },
);
export type CountRateState = Static<typeof CountRateState>;

/** Beyond this many empty buckets in one gap, the rest decay in closed form (the loop would be O(gap)). */
const MAX_EXPLICIT_CLOSES = 1000;
const LEARNED_CAP = 1e9;

const whatOf = (l: StepLabels): string => l.metric || 'events';
/** Score of a non-negative z (Infinity when the baseline has no spread at all). */
const scoreOf = (z: number, half: number): number => (z === Infinity ? 1 : squash(z, half));
const sigmaText = (z: number): string => (Number.isFinite(z) ? `${fmt(z)}σ` : 'no usual spread');
function zDetail(
  count: number,
  baseline: number,
  spread: number,
  z: number,
  bucketStart: number,
): Record<string, number> {
  const d: Record<string, number> = { count, baseline, spread, bucket_start: bucketStart };
  if (Number.isFinite(z)) d.z = z;
  return d;
}
/** Whole milliseconds, so bucket starts stay exact integers however many buckets pass. */
const bucketMs = (p: CountRateParams): number => Math.max(1, Math.round(p.bucket_secs * 1000));

function spreadOf(p: CountRateParams, s: CountRateState): number {
  const robust = s.devWeight > 0 ? (MEAN_ABS_DEV_TO_SIGMA * s.dev) / s.devWeight : 0;
  return Math.max(robust, Math.sqrt(Math.max(0, s.mean)), p.min_spread);
}

function learn(p: CountRateParams, s: CountRateState, c: number): void {
  const a = -Math.expm1(-Math.LN2 / p.half_life_buckets);
  if (s.learned === 0) {
    s.mean = c;
  } else {
    let d = c - s.mean;
    if (p.clip_z > 0 && s.learned >= p.min_buckets) {
      const lim = p.clip_z * spreadOf(p, s);
      d = d > lim ? lim : d < -lim ? -lim : d;
    }
    s.dev += a * (Math.abs(d) - s.dev);
    s.devWeight += a * (1 - s.devWeight);
    s.mean += a * d;
  }
  s.learned = Math.min(s.learned + 1, LEARNED_CAP);
}

/**
 * Closes every bucket that ended at or before `until` (epoch ms), judging dips and learning.
 * Returns the highest dip score among them (0 if none judged); at most one dip finding per call.
 */
function closeBuckets(
  p: CountRateParams,
  s: CountRateState,
  until: number,
  out: FindingSink,
  labels: StepLabels,
): number {
  const bms = bucketMs(p);
  let best = 0;
  let reported = false;
  let closes = 0;
  while (s.bucketStart + bms <= until) {
    if (closes === MAX_EXPLICIT_CLOSES) {
      // A long gap of empty buckets: decay the baseline towards 0 in closed form.
      const rest = Math.floor((until - s.bucketStart) / bms);
      const f = Math.exp((-Math.LN2 * rest) / p.half_life_buckets);
      s.mean *= f;
      s.dev *= f;
      s.learned = Math.min(s.learned + rest, LEARNED_CAP);
      s.bucketStart += rest * bms;
      break;
    }
    const c = s.count;
    if (!s.partial && s.learned >= p.min_buckets && p.direction !== 'up') {
      const spread = spreadOf(p, s);
      const z = -zOf(c, s.mean, spread);
      if (z > 0) {
        const score = scoreOf(z, p.threshold_z);
        if (score > best) best = score;
        if (z >= p.threshold_z && !reported) {
          reported = true;
          out.finding({
            severity: 'warning',
            reason: `${whatOf(labels)} ${fmt(c)} in ${fmt(p.bucket_secs)} s, usually ${fmt(s.mean)} (${sigmaText(z)} below)`,
            detail: zDetail(c, s.mean, spread, z, s.bucketStart),
          });
        }
      }
    }
    if (!s.partial) learn(p, s, c);
    s.partial = false;
    s.spiked = false;
    s.count = 0;
    s.bucketStart += bms;
    closes++;
  }
  return best;
}

/** Silence check at `now`; returns the silence score, or -1 when not silent. */
function checkSilence(
  p: CountRateParams,
  s: CountRateState,
  now: number,
  out: FindingSink,
  labels: StepLabels,
): number {
  if (p.silence_secs <= 0 || s.lastEvent < 0) return -1;
  const quiet = now - s.lastEvent;
  const limit = p.silence_secs * 1000;
  if (quiet < limit) return -1;
  if (!s.silent) {
    s.silent = true;
    out.finding({
      severity: 'warning',
      reason: `no ${whatOf(labels)} for ${fmt(quiet / 1000)} s`,
      detail: { quiet_secs: quiet / 1000, last_event: s.lastEvent },
    });
  }
  return 0.5 + 0.5 * squash(quiet - limit, limit);
}

export const countRate: DetectorDef<typeof CountRateParams, CountRateState, Observation> = {
  type: 'count_rate',
  summary: 'Event-rate spikes and dips against a learned per-key baseline, and silences.',
  params: CountRateParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: auth_failures
  type: count_rate
  select: { kind: log, fields: { event.outcome: failure } }
  key: [site, asset]
  params: { bucket_secs: 60, threshold_z: 4, silence_secs: 0 }
`,
  init: () => ({
    bucketStart: -1,
    count: 0,
    partial: true,
    spiked: false,
    mean: 0,
    dev: 0,
    devWeight: 0,
    learned: 0,
    lastEvent: -1,
    silent: false,
  }),
  step(p, s, x, out, labels) {
    const bms = bucketMs(p);
    const b = Math.floor(x.time / bms) * bms;
    let dip = 0;
    if (s.bucketStart < 0) s.bucketStart = b;
    else if (b > s.bucketStart) dip = closeBuckets(p, s, b, out, labels);
    // A late event (before the open bucket) is counted in the open bucket: closed ones are final.
    s.count += x.value;
    if (s.silent) {
      s.silent = false;
      out.finding({
        severity: 'info',
        reason: `${whatOf(labels)} resumed after ${fmt((x.time - s.lastEvent) / 1000)} s of silence`,
        detail: { quiet_secs: (x.time - s.lastEvent) / 1000 },
      });
    }
    s.lastEvent = Math.max(s.lastEvent, x.time);
    if (s.learned < p.min_buckets) return null;
    let spike = 0;
    if (p.direction !== 'down') {
      const spread = spreadOf(p, s);
      const z = zOf(s.count, s.mean, spread);
      if (z > 0) spike = scoreOf(z, p.threshold_z);
      if (z >= p.threshold_z && !s.spiked) {
        s.spiked = true;
        out.finding({
          severity: z >= 2 * p.threshold_z ? 'critical' : 'warning',
          reason: `${whatOf(labels)} ${fmt(s.count)} in ${fmt(p.bucket_secs)} s, usually ${fmt(s.mean)} (${sigmaText(z)} above)`,
          detail: zDetail(s.count, s.mean, spread, z, s.bucketStart),
        });
      }
    }
    return Math.max(spike, dip);
  },
  tick(p, s, now, out, labels) {
    if (s.bucketStart < 0) return null;
    const bms = bucketMs(p);
    const dip = closeBuckets(p, s, Math.floor(now / bms) * bms, out, labels);
    const silence = checkSilence(p, s, now, out, labels);
    if (silence >= 0) return Math.max(silence, dip);
    return s.learned < p.min_buckets ? null : dip;
  },
};
