/**
 * flatline: a signal that stops changing. A stalled transmitter, a frozen PLC register or a
 * replayed (spoofed) value shows up as a value that stays within `tolerance` for at least
 * `min_duration_secs`, on a signal that normally moves (its typical step is learned, so a
 * setpoint that is legitimately constant is not flagged). One finding per flat stretch; an
 * info finding when it moves again. `tick` also flags a signal that stops reporting when
 * `silence_secs` is set.
 *
 * @example
 * - id: stuck
 *   type: flatline
 *   select: { kind: reading, metric: [level_mm, ph] }
 *   params: { min_duration_secs: 60 }
 * # finding: "ph has not changed from 7.21 for 64 s (it usually moves 0.012 per reading)"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef } from '../contract.ts';

export const FlatlineParams = Type.Object(
  {
    min_duration_secs: Type.Number({
      minimum: 0,
      default: 60,
      description: 'How long (event time, s) the value must stay flat; 0 disables flatness (silence only).',
    }),
    tolerance: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Value units: changes up to this size count as "not changing" (0 = exactly equal).',
    }),
    min_moving_steps: Type.Integer({
      minimum: 1,
      default: 30,
      description: 'Warm-up: steps that must have changed the value before flatness is judged (a constant setpoint never alarms).',
    }),
    silence_secs: Type.Number({ minimum: 0, default: 0, description: 'Also flag no reading at all for this long (checked by tick); 0 disables.' }),
    severity: Type.Union([Type.Literal('warning'), Type.Literal('critical')], { default: 'warning', description: 'Severity of the finding.' }),
  },
  { additionalProperties: false },
);
export type FlatlineParams = Static<typeof FlatlineParams>;

export interface FlatlineState {
  /** Value the current flat stretch holds; null before the first reading. */
  value: number | null;
  /** Event time the stretch started (ms). */
  since: number;
  /** Last event time seen (ms). */
  last: number;
  /** Steps that changed the value (capped), and the EMA of their size. */
  moving: number;
  typicalStep: number;
  alerted: boolean;
  silent: boolean;
}

const MOVING_CAP = 1_000_000;

export const flatline: DetectorDef<typeof FlatlineParams, FlatlineState> = {
  type: 'flatline',
  summary: 'A normally moving signal that stops changing (stalled or spoofed sensor), or stops reporting.',
  params: FlatlineParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: stuck
  type: flatline
  select: { kind: reading, metric: [level_mm, ph] }
  params: { min_duration_secs: 60 }`,
  init: () => ({ value: null, since: 0, last: 0, moving: 0, typicalStep: 0, alerted: false, silent: false }),
  step(p, s, x, out, labels) {
    if (s.silent) {
      s.silent = false;
      out.finding({ severity: 'info', reason: `${labels.metric} reports again after ${fmt((x.time - s.last) / 1000)} s of silence` });
    }
    s.last = x.time;
    if (s.value === null) {
      s.value = x.value;
      s.since = x.time;
      return null;
    }
    const step = Math.abs(x.value - s.value);
    if (step > p.tolerance) {
      if (s.alerted) {
        out.finding({
          severity: 'info',
          reason: `${labels.metric} changes again (${fmt(s.value)} → ${fmt(x.value)}) after ${fmt((x.time - s.since) / 1000)} s flat`,
        });
      }
      s.moving = Math.min(MOVING_CAP, s.moving + 1);
      s.typicalStep += (step - s.typicalStep) / Math.min(s.moving, 100);
      s.value = x.value;
      s.since = x.time;
      s.alerted = false;
      return s.moving >= p.min_moving_steps ? 0 : null;
    }
    if (s.moving < p.min_moving_steps || p.min_duration_secs === 0) return s.moving < p.min_moving_steps ? null : 0;
    const flatSecs = (x.time - s.since) / 1000;
    const score = Math.min(1, (0.5 * flatSecs) / p.min_duration_secs);
    if (!s.alerted && flatSecs >= p.min_duration_secs) {
      s.alerted = true;
      out.finding({
        severity: p.severity,
        reason: `${labels.metric} has not changed from ${fmt(s.value)}${labels.unit ? ` ${labels.unit}` : ''} for ${fmt(flatSecs)} s (it usually moves ${fmt(s.typicalStep)} per reading)`,
        detail: { value: s.value, flat_secs: flatSecs, typical_step: s.typicalStep },
      });
    }
    return score;
  },
  tick(p, s, now, out, labels) {
    if (p.silence_secs <= 0 || s.value === null || s.silent) return null;
    if (now - s.last >= p.silence_secs * 1000) {
      s.silent = true;
      out.finding({ severity: p.severity, reason: `${labels.metric} has not reported for ${fmt((now - s.last) / 1000)} s` });
      return 1;
    }
    return null;
  },
};
