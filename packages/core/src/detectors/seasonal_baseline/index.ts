/**
 * seasonal_baseline: deviation from what is usual for this time of day and/or day of week.
 * A profile of 24 (hour_of_day), 7 (day_of_week) or 168 (hour_of_week) slots, chosen by event time
 * in UTC shifted by `utc_offset_mins`; each slot keeps a time-decayed mean and a robust spread (a
 * time-decayed mean of absolute prediction errors, converted to a σ estimate). A value is judged
 * against its slot only, so the 14:00 peak of a Tuesday is normal while the same flow at 03:00 is not.
 *
 * Weights decay with event time: a point `half_life_cycles` profile periods old (days for
 * hour_of_day, weeks otherwise) counts half. Within one visit of a slot (dense sampling) the weights
 * barely decay, so the slot averages the whole visit instead of forgetting it point by point.
 * Each slot warms up on its own: it scores once it learned `min_points` points over `min_visits`
 * distinct occurrences (e.g. two different Tuesdays 14:00-15:00).
 *
 * Score: squash(|z|, threshold_z), 0.5 at the threshold; null while the slot warms up. O(1) per update.
 *
 * @example
 * const p = resolveParams(seasonalBaseline, { profile: 'hour_of_week', utc_offset_mins: 60 });
 * const s = seasonalBaseline.init(p);
 * seasonalBaseline.step(p, s, { time, value: 41, fields: {} }, out, labels);
 * // finding: "flow_m3h 41 is 5.2σ above its usual 23 for Tuesday 14:00"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, squash, type DetectorDef, type FindingSink, type Observation, type StepLabels } from '../contract.ts';
import { MEAN_ABS_DEV_TO_SIGMA, zOf } from '../ema_baseline/deviation.ts';
import { Direction } from '../ema_baseline/index.ts';

export const SeasonalBaselineParams = Type.Object(
  {
    profile: Type.Union([Type.Literal('hour_of_day'), Type.Literal('day_of_week'), Type.Literal('hour_of_week')], {
      default: 'hour_of_week',
      description: 'Slots of the profile: hour_of_day (24), day_of_week (7) or hour_of_week (168, e.g. Tuesday 14:00).',
    }),
    utc_offset_mins: Type.Integer({
      minimum: -720,
      maximum: 840,
      default: 0,
      description: 'Minutes added to UTC event time to get the local time of the slots (60 = UTC+1). No DST.',
    }),
    half_life_cycles: Type.Number({
      exclusiveMinimum: 0,
      default: 4,
      description:
        'Memory of each slot in profile periods (days for hour_of_day, weeks otherwise): a point this old weighs half.',
    }),
    min_points: Type.Integer({
      minimum: 2,
      default: 10,
      description: 'Warm-up per slot: points learned in the slot before it gives a score.',
    }),
    min_visits: Type.Integer({
      minimum: 1,
      default: 2,
      description:
        'Warm-up per slot: distinct occurrences of the slot (different days or weeks) before it gives a score.',
    }),
    threshold_z: Type.Number({
      exclusiveMinimum: 0,
      default: 4,
      description: 'A finding is raised at this many (robust) standard deviations; score is 0.5 there.',
    }),
    clip_z: Type.Number({
      minimum: 0,
      default: 5,
      description: 'Deviations beyond this many σ are clipped before the slot learns them; 0 disables clipping.',
    }),
    min_spread: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Floor for the spread (σ estimate), in value units.',
    }),
    direction: Direction,
  },
  { additionalProperties: false },
);
export type SeasonalBaselineParams = Static<typeof SeasonalBaselineParams>;

/**
 * One flat array, FIELDS numbers per slot (array of structs): an update touches one slot, and its
 * eight numbers share one 64-byte cache line, which matters with thousands of keys. Plain numbers
 * keep the state JSON-safe and the update allocation-free.
 */
export const SeasonalBaselineState = Type.Object(
  {
    slots: Type.Array(Type.Number(), {
      description:
        'Per slot, 8 numbers: points learned, visits, last visit index, weight sum, mean, error weight sum, mean absolute error, last time (ms).',
    }),
  },
  { additionalProperties: false },
);
export type SeasonalBaselineState = Static<typeof SeasonalBaselineState>;

/** Offsets of a slot's numbers in `slots`. */
const N = 0; // points learned (capped)
const VISITS = 1; // distinct occurrences of the slot seen (capped)
const VISIT = 2; // index of the last occurrence (local hours or days since the epoch)
const WEIGHT = 3; // decayed sum of weights of the points learned
const MEAN = 4; // decayed weighted mean
const DEV_WEIGHT = 5; // decayed sum of weights of the absolute errors (all points but the first)
const DEV = 6; // decayed weighted mean of absolute prediction errors
const LAST = 7; // event time of the last point learned (ms)
const FIELDS = 8;

/** What a slot has learned, for inspection and tests. */
export function slotStats(
  s: SeasonalBaselineState,
  slot: number,
): { n: number; visits: number; mean: number; spread: number } {
  const o = slot * FIELDS;
  const spread = (s.slots[o + DEV_WEIGHT] ?? 0) > 0 ? MEAN_ABS_DEV_TO_SIGMA * (s.slots[o + DEV] ?? 0) : 0;
  return { n: s.slots[o + N] ?? 0, visits: s.slots[o + VISITS] ?? 0, mean: s.slots[o + MEAN] ?? 0, spread };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const N_CAP = 1e9;
/** "Never visited": far below any real occurrence index (and finite, so JSON keeps it). */
const NO_VISIT = -1e15;
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export function slotCount(profile: SeasonalBaselineParams['profile']): number {
  return profile === 'hour_of_day' ? 24 : profile === 'day_of_week' ? 7 : 168;
}

/** Floor modulo that is correct for negative times too. */
const mod = (a: number, m: number): number => ((a % m) + m) % m;

/** 1970-01-01 was a Thursday (day 4 with Sunday = 0). */
const dayOfWeek = (localDays: number): number => mod(localDays + 4, 7);

/** The slot of local time `local` (epoch ms shifted by the UTC offset). */
function slotOfLocal(profile: SeasonalBaselineParams['profile'], local: number): number {
  const hours = Math.floor(local / HOUR_MS);
  if (profile === 'hour_of_day') return mod(hours, 24);
  const dow = dayOfWeek(Math.floor(local / DAY_MS));
  if (profile === 'day_of_week') return dow;
  return dow * 24 + mod(hours, 24);
}

/** The slot of event time `time` (epoch ms, UTC) in the local time of the profile. */
export function slotOf(p: SeasonalBaselineParams, time: number): number {
  return slotOfLocal(p.profile, time + p.utc_offset_mins * 60_000);
}

/** "Tuesday 14:00", "14:00" or "Tuesday". */
export function slotName(p: SeasonalBaselineParams, slot: number): string {
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  if (p.profile === 'hour_of_day') return hh(slot);
  if (p.profile === 'day_of_week') return DAYS[slot] ?? String(slot);
  return `${DAYS[Math.floor(slot / 24)] ?? ''} ${hh(slot % 24)}`;
}

/** The profile period in ms: a point this many half-life periods old weighs half. */
const periodMs = (p: SeasonalBaselineParams): number => (p.profile === 'hour_of_day' ? DAY_MS : WEEK_MS);

// One-entry cache of step's decay factor: a key's points usually come at a fixed interval, so dt
// repeats, and exp is a large share of an update. Same expression, so the same bits.
let cachedDt = Number.NaN;
let cachedHalfLifeMs = Number.NaN;
let cachedDecay = 1;

export const seasonalBaseline: DetectorDef<typeof SeasonalBaselineParams, SeasonalBaselineState, Observation> = {
  type: 'seasonal_baseline',
  summary: 'Deviation from the usual value for this hour of day and/or day of week (a profile of slots).',
  params: SeasonalBaselineParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: flow_weekly
  type: seasonal_baseline
  select: { metric: flow_m3h }
  params: { profile: hour_of_week, utc_offset_mins: 60, half_life_cycles: 4, threshold_z: 4 }
`,
  init(p) {
    const k = slotCount(p.profile);
    // Array.from gives a packed array (no holes), which V8 keeps as unboxed doubles.
    const slots = Array.from({ length: k * FIELDS }, (_, i) => (i % FIELDS === VISIT ? NO_VISIT : 0));
    return { slots };
  },
  step(p, s, x, out, labels) {
    const local = x.time + p.utc_offset_mins * 60_000;
    const k = slotOfLocal(p.profile, local);
    // A new occurrence index (local hour, or day for day_of_week) is a new visit of the slot.
    const occ = Math.floor(local / (p.profile === 'day_of_week' ? DAY_MS : HOUR_MS));
    const a = s.slots;
    const o = k * FIELDS;
    const value = x.value;
    const n = a[o + N] ?? 0;
    if (n === 0) {
      a[o + N] = 1;
      a[o + VISITS] = 1;
      a[o + VISIT] = occ;
      a[o + WEIGHT] = 1;
      a[o + MEAN] = value;
      a[o + LAST] = x.time;
      return null;
    }
    let visits = a[o + VISITS] ?? 0;
    if (occ !== a[o + VISIT]) {
      visits = Math.min(visits + 1, N_CAP);
      a[o + VISITS] = visits;
      a[o + VISIT] = occ;
    }
    const mean = a[o + MEAN] ?? 0;
    const devWeight = a[o + DEV_WEIGHT] ?? 0;
    const dev = a[o + DEV] ?? 0;
    const spread = Math.max(devWeight > 0 ? MEAN_ABS_DEV_TO_SIGMA * dev : 0, p.min_spread);
    const warm = n >= p.min_points && visits >= p.min_visits;
    let score: number | null = null;
    if (warm) {
      const z = zOf(value, mean, spread);
      const counted = p.direction === 'both' || (p.direction === 'up' ? z > 0 : z < 0);
      const az = counted ? Math.abs(z) : 0;
      score = az === Infinity ? 1 : squash(az, p.threshold_z);
      if (az >= p.threshold_z) report(p, k, value, mean, spread, z, az, out, labels);
    }
    // Learn: decay the slot's weights by the event time since its last point, then add this one.
    const last = a[o + LAST] ?? x.time;
    const dt = x.time - last;
    // No decay for points at the same time or out of order (and no exp to compute).
    let f = 1;
    if (dt > 0) {
      // Written out rather than a helper: a call V8 does not inline boxes its double arguments.
      const halfLifeMs = p.half_life_cycles * periodMs(p);
      if (dt !== cachedDt || halfLifeMs !== cachedHalfLifeMs) {
        cachedDecay = Math.exp((-Math.LN2 * dt) / halfLifeMs);
        cachedDt = dt;
        cachedHalfLifeMs = halfLifeMs;
      }
      f = cachedDecay;
    }
    let d = value - mean;
    if (warm && p.clip_z > 0 && spread > 0) {
      const lim = p.clip_z * spread;
      d = d > lim ? lim : d < -lim ? -lim : d;
    }
    const w = (a[o + WEIGHT] ?? 0) * f + 1;
    const dw = devWeight * f + 1;
    a[o + WEIGHT] = w;
    a[o + MEAN] = mean + d / w;
    a[o + DEV_WEIGHT] = dw;
    a[o + DEV] = dev + (Math.abs(d) - dev) / dw;
    a[o + N] = Math.min(n + 1, N_CAP);
    if (dt > 0) a[o + LAST] = x.time;
    return score;
  },
};

/** Builds the finding; kept out of step so the common no-finding path stays small (and inlinable). */
function report(
  p: SeasonalBaselineParams,
  slot: number,
  value: number,
  usual: number,
  spread: number,
  z: number,
  az: number,
  out: FindingSink,
  labels: StepLabels,
): void {
  const side = z > 0 ? 'above' : 'below';
  const when = slotName(p, slot);
  const reason =
    az === Infinity
      ? `${labels.metric} ${fmt(value)} is ${side} its usual (constant) ${fmt(usual)} for ${when}`
      : `${labels.metric} ${fmt(value)} is ${fmt(az)}σ ${side} its usual ${fmt(usual)} for ${when}`;
  const detail: Record<string, number | string> = { value, usual, spread, slot: when };
  if (Number.isFinite(z)) detail.z = z;
  out.finding({ severity: az >= 2 * p.threshold_z ? 'critical' : 'warning', reason, detail });
}
