import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { ParamError, resolveParams } from './params.ts';
import type { DetectorDef, Observation } from './contract.ts';

const RangeParams = Type.Object({
  min: Type.Number({ default: 0, description: 'Lower bound.' }),
  max: Type.Number({ default: 10, description: 'Upper bound.' }),
});

let validateCalls = 0;
const ranged: Pick<DetectorDef<typeof RangeParams, unknown, Observation>, 'type' | 'params' | 'validate'> = {
  type: 'toy_range',
  params: RangeParams,
  validate(p) {
    validateCalls++;
    return p.min < p.max ? [] : [{ path: '/max', message: `must be above min (${p.min}), got ${p.max}` }];
  },
};

describe('resolveParams validate hook', () => {
  it('passes the params with defaults filled to validate, and returns them when it finds nothing', () => {
    expect(resolveParams(ranged, { min: 5 })).toEqual({ min: 5, max: 10 });
  });

  it('throws a ParamError with the problems validate returns, naming the parameter', () => {
    let err: unknown;
    try {
      resolveParams(ranged, { min: 20 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParamError);
    expect((err as ParamError).code).toBe('E_DETECTOR_PARAMS');
    expect((err as ParamError).problems).toEqual([{ path: '/max', message: 'must be above min (20), got 10' }]);
    expect((err as ParamError).message).toBe('toy_range: /max must be above min (20), got 10');
  });

  it('does not call validate when the schema already rejects the params', () => {
    const before = validateCalls;
    expect(() => resolveParams(ranged, { min: 'a' })).toThrow(/toy_range: \/min/);
    expect(validateCalls).toBe(before);
  });
});
