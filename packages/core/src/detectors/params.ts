/**
 * Parameter resolution for detectors: fills defaults from the schema, validates against it, then
 * runs the detector's own cross-field `validate` hook (e.g. low < high) when it has one.
 * Errors name the parameter path and the problem so config loading can prefix the file and entry.
 *
 * @example
 * const p = resolveParams(rollingZScore, { window: 60 }); // throws ParamError on bad input
 */
import { Value } from '@sinclair/typebox/value';
import type { Static, TObject } from '@sinclair/typebox';
import type { DetectorDef, ParamProblem } from './contract.ts';

export class ParamError extends Error {
  readonly code = 'E_DETECTOR_PARAMS';
  constructor(
    readonly detectorType: string,
    readonly problems: ParamProblem[],
  ) {
    super(`${detectorType}: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`);
  }
}

export function resolveParams<P extends TObject>(
  def: Pick<DetectorDef<P, unknown, never>, 'params' | 'type' | 'validate'>,
  raw: unknown,
): Static<P> {
  const copy = Value.Clone(raw ?? {}) as unknown;
  const withDefaults = Value.Default(def.params, copy);
  if (Value.Check(def.params, withDefaults)) {
    const crossField = def.validate?.(withDefaults) ?? [];
    if (crossField.length > 0) throw new ParamError(def.type, crossField);
    return withDefaults;
  }
  const problems = [...Value.Errors(def.params, withDefaults)].slice(0, 10).map((e) => ({
    path: e.path,
    message: `${e.message}${e.value === undefined ? '' : `, got ${JSON.stringify(e.value)}`}`,
  }));
  throw new ParamError(def.type, problems);
}
