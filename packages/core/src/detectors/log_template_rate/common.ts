/**
 * Helpers shared by the log detectors: reading the message and level of a log observation, and
 * short template texts for reasons.
 *
 * @example
 * messageOf({ time, value: 1, fields: { message: 'x' } }); // 'x'
 */
import type { Observation } from '../contract.ts';

/** The event's message (log events carry it in `fields.message`); '' when absent. */
export function messageOf(x: Observation): string {
  const m = x.fields.message;
  return typeof m === 'string' ? m : m === undefined ? '' : String(m);
}

/** Template text cut to `max` characters for a reason line. */
export function shortTemplate(t: readonly string[], max = 120): string {
  const s = t.join(' ');
  const q = s.length > max ? `${s.slice(0, max - 1)}…` : s;
  return `"${q}"`;
}
