/**
 * event_burst: at least `max_events` events within a sliding `window_secs` (exact: the event
 * times in the window are kept). Made for events that should be rare whatever their history,
 * such as failed logins (brute force) or error logs, where a learned baseline (count_rate)
 * would need a long warm-up. One finding per burst; it re-arms when the count falls to half.
 *
 * @example
 * - id: login-failures
 *   type: event_burst
 *   select: { kind: log, fields: { event.outcome: failure } }
 *   key: [site, asset]
 *   params: { window_secs: 60, max_events: 5 }
 * # finding: "7 events in 60 s (limit 5)"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef } from '../contract.ts';

export const EventBurstParams = Type.Object(
  {
    window_secs: Type.Number({ exclusiveMinimum: 0, default: 60, description: 'Sliding window length (event time, s).' }),
    max_events: Type.Integer({ minimum: 1, maximum: 100_000, default: 5, description: 'A burst is at least this many events in the window.' }),
    severity: Type.Union([Type.Literal('warning'), Type.Literal('critical')], { default: 'warning', description: 'Severity of the finding.' }),
  },
  { additionalProperties: false },
);
export type EventBurstParams = Static<typeof EventBurstParams>;

export interface EventBurstState {
  /** Times of the events in the window, oldest first (at most 2 × max_events kept). */
  times: number[];
  /** A burst is open: no new finding until the count falls to half the limit. */
  inBurst: boolean;
}

export const eventBurst: DetectorDef<typeof EventBurstParams, EventBurstState> = {
  type: 'event_burst',
  summary: 'At least N events within a sliding time window (failed logins, error bursts).',
  params: EventBurstParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: login-failures
  type: event_burst
  select: { kind: log, fields: { event.outcome: failure } }
  key: [site, asset]
  params: { window_secs: 60, max_events: 5 }`,
  init: () => ({ times: [], inBurst: false }),
  step(p, s, x, out, labels) {
    const from = x.time - p.window_secs * 1000;
    let drop = 0;
    while (drop < s.times.length && s.times[drop]! <= from) drop++;
    if (drop > 0) s.times.splice(0, drop);
    s.times.push(x.time);
    const n = s.times.length;
    if (s.inBurst && n <= Math.floor(p.max_events / 2)) s.inBurst = false;
    if (!s.inBurst && n >= p.max_events) {
      s.inBurst = true;
      out.finding({
        severity: p.severity,
        reason: `${n} ${labels.metric} in ${fmt((x.time - s.times[0]!) / 1000)} s (limit ${p.max_events} in ${fmt(p.window_secs)} s)`,
        detail: { count: n, window_secs: p.window_secs },
      });
    }
    // Memory stays bounded: the score saturates at 2 × max_events, so older times cannot matter.
    if (s.times.length > 2 * p.max_events) s.times.splice(0, s.times.length - 2 * p.max_events);
    return Math.min(1, n / (2 * p.max_events));
  },
};
