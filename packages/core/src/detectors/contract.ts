/**
 * The detector contract. A detector is a pure step function over one key's state:
 *
 *   init(params)                      → state          (plain JSON)
 *   step(params, state, input, out)   → score | null   (null while warming up)
 *   tick(params, state, now, out)     → score | null   (optional: time passed with no input)
 *
 * Purity rules: a detector reads only its arguments, never the clock, the disk or the network;
 * event time comes from `input.time` / `now`. It may update `state` in place (the runtime owns one
 * state object per key, and allocation per update would cap throughput), but nothing else:
 * `input` is never mutated. Findings are reported through `out.finding(...)`, a human reason each.
 *
 * State must survive `JSON.parse(JSON.stringify(state))` unchanged in meaning: no NaN, no
 * Infinity, no typed arrays, no Maps. `stateVersion` is stored beside it in checkpoints and a
 * mismatch on restore is an error, not a silent re-init.
 *
 * @example
 * const d = detectors.rolling_zscore;
 * const p = resolveParams(d, { window: 60 });
 * const s = d.init(p);
 * const score = d.step(p, s, { time: t, value: 3.2, fields: {} }, collector);
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { Scalar, Severity } from '../schema/events.ts';

/** What a scalar/event detector sees for one event. */
export interface Observation {
  /** Event time, epoch ms. */
  readonly time: number;
  /** The selected numeric value (the reading's value, 1 for a counted event, a model's error). Always finite. */
  readonly value: number;
  /** Fields of the event and the latest known signals of the same asset (for rules). */
  readonly fields: Readonly<Record<string, Scalar>>;
}

/** What a multivariate detector sees: one vector per time step. */
export interface VectorObservation {
  readonly time: number;
  readonly values: readonly number[];
  readonly fields: Readonly<Record<string, Scalar>>;
}

export interface Finding {
  severity: Severity;
  /** Human-readable: "flow_m3h 41.2 > 40 for 35 s". */
  reason: string;
  /** Values worth showing beside the reason. */
  detail?: Record<string, Scalar>;
}

/** Receives findings. The runtime passes a collector; tests pass an array-backed one. */
export interface FindingSink {
  finding(f: Finding): void;
}

/** Context the runtime provides to make reasons readable; never used for decisions. */
export interface StepLabels {
  /** The key this state belongs to, e.g. "plant-a/P-101". */
  readonly key: string;
  /** Metric or signal name, e.g. "flow_m3h". */
  readonly metric: string;
  /** Unit of the value, e.g. "m3/h". */
  readonly unit: string;
}

export type InputKind = 'scalar' | 'vector';

export interface DetectorDef<P extends TObject = TObject, S = unknown, I = Observation> {
  /** Config `type:` name, snake_case. */
  readonly type: string;
  /** One line: what it detects. */
  readonly summary: string;
  /** Parameters with units in their names and defaults; the JSON Schema of the config block. */
  readonly params: P;
  readonly stateVersion: number;
  readonly input: I extends VectorObservation ? 'vector' : 'scalar';
  /** A YAML example of a detector entry using it. */
  readonly example: string;
  init(params: Static<P>): S;
  step(params: Static<P>, state: S, input: I, out: FindingSink, labels: StepLabels): number | null;
  /** Called by the runtime when time advances with no input for this key (silence, rate dips). */
  tick?(params: Static<P>, state: S, now: number, out: FindingSink, labels: StepLabels): number | null;
  /**
   * Cross-field checks the schema cannot express (low < high, min_points within the window).
   * Called by resolveParams after defaults and schema validation, so a bad combination fails at
   * config load with a ParamError naming the parameter, not later in init. Empty = valid.
   */
  validate?(params: Static<P>): ParamProblem[];
}

/** One problem with a detector's params: a JSON pointer to the parameter and what is wrong. */
export interface ParamProblem {
  /** e.g. "/min_points". */
  path: string;
  /** e.g. "must be at most window_points (5), got 10". */
  message: string;
}

/** Helpers shared by detectors. */
export const NO_FINDINGS: FindingSink = { finding() {} };

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Maps a non-negative deviation (e.g. |z|) to [0,1): 0 at 0, 0.5 at `half`, tending to 1. */
export function squash(deviation: number, half: number): number {
  if (!(deviation > 0)) return 0;
  return deviation / (deviation + half);
}

/** Formats a number for a reason text: 3 significant digits, no exponent for plant-scale values. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 0.001 || a >= 1e7)) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}
