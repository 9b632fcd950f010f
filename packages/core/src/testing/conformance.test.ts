import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Type } from '@sinclair/typebox';
import type { DetectorDef, Observation, VectorObservation } from '../detectors/contract.ts';
import {
  collectFindings,
  conformanceChecks,
  deepFreeze,
  describeConformance,
  jsonProblem,
  scalarObservations,
  withTicks,
  type Op,
} from './conformance.ts';

const NoParams = Type.Object({
  half: Type.Number({ default: 1, description: 'Deviation at which the score is 0.5.' }),
});
type Def<S> = DetectorDef<typeof NoParams, S, Observation>;

/** A correct toy: distance from the previous value, squashed. */
const good: Def<{ prev: number | null }> = {
  type: 'toy_good',
  summary: 'Distance from the previous value.',
  params: NoParams,
  stateVersion: 1,
  input: 'scalar',
  example: 'type: toy_good\n',
  init: () => ({ prev: null }),
  step(p, s, x, out) {
    const prev = s.prev;
    s.prev = x.value;
    if (prev === null) return null;
    const d = Math.abs(x.value - prev);
    if (d > 100) out.finding({ severity: 'warning', reason: `jump of ${d}` });
    return d / (d + p.half);
  },
  tick: (_p, s) => (s.prev === null ? null : 0),
};

describeConformance(good, { numRuns: 50 });

/** A correct vector toy: squashed distance of the vector from the previous one (exercises the vector generators). */
const vectorToy: DetectorDef<typeof NoParams, { prev: number[] }, VectorObservation> = {
  type: 'toy_vector',
  summary: 'Distance of the vector from the previous one.',
  params: NoParams,
  stateVersion: 1,
  input: 'vector',
  example: 'type: toy_vector\n',
  init: () => ({ prev: [] }),
  step(p, s, x) {
    const had = s.prev.length === x.values.length;
    let d = 0;
    for (let i = 0; i < x.values.length; i++) {
      if (had) d = Math.max(d, Math.abs(x.values[i]! - s.prev[i]!));
      s.prev[i] = x.values[i]!;
    }
    s.prev.length = x.values.length;
    return had ? d / (d + p.half) : null;
  },
};

describeConformance(vectorToy, { numRuns: 30 });

let calls = 0;
const broken: Record<string, Def<Record<string, unknown>>> = {
  nondeterministic: { ...good, init: () => ({}), step: () => (calls++ % 2 === 0 ? 0 : 1) },
  outOfRange: { ...good, init: () => ({}), step: (_p, _s, x) => x.value },
  mutatesInput: {
    ...good,
    init: () => ({}),
    step: (_p, _s, x) => {
      (x as { value: number }).value = 0;
      return 0;
    },
  },
  infinityInState: {
    ...good,
    init: () => ({ max: -Infinity }),
    step: (_p, s, x) => {
      s.max = Math.max(s.max as number, x.value);
      return 0;
    },
  },
  loses_undefined_on_restore: {
    ...good,
    init: () => ({ seen: 0, last: undefined }),
    step: (_p, s, x) => {
      const had = 'last' in s;
      s.seen = (s.seen as number) + 1;
      return had ? 0 : x.value === x.value ? 1 : 0;
    },
  },
  mapInState: {
    ...good,
    init: () => ({ m: new Map<string, number>() }),
    step: (_p, s) => {
      (s.m as Map<string, number>).set('a', 1);
      return 0;
    },
  },
};

const some = scalarObservations({ maxLength: 20 }).filter((xs) => xs.length >= 3);
const asOps = some.map((xs) => xs.map((input): Op<Observation> => ({ kind: 'step', input })));
/** Runs a property expected to fail and returns the message of the check that failed ('' if it passed). */
function failure(prop: fc.IProperty<[Array<Op<Observation>>]>): string {
  try {
    fc.assert(prop, { numRuns: 30 });
    return '';
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    return String(cause instanceof Error ? cause.message : (e as Error).message);
  }
}

describe('the conformance suite catches broken detectors', () => {
  it('nondeterminism', () => {
    const c = conformanceChecks(broken.nondeterministic!, { half: 1 });
    expect(failure(fc.property(asOps, (o) => c.deterministic(o)))).toMatch(/second run gives the same trace/);
  });
  it('scores out of [0,1]', () => {
    const c = conformanceChecks(broken.outOfRange!, { half: 1 });
    const big = scalarObservations({ values: fc.constant(5), maxLength: 5 })
      .filter((xs) => xs.length > 0)
      .map((xs) => xs.map((input): Op<Observation> => ({ kind: 'step', input })));
    expect(failure(fc.property(big, (o) => c.wellBehaved(o)))).toMatch(/score #0/);
  });
  it('mutated input', () => {
    const c = conformanceChecks(broken.mutatesInput!, { half: 1 });
    expect(failure(fc.property(asOps, (o) => c.wellBehaved(o)))).toMatch(/read.only|Cannot assign/i);
  });
  it('Infinity in state', () => {
    const c = conformanceChecks(broken.infinityInState!, { half: 1 });
    expect(() => c.wellBehaved([])).toThrow(
      /initial state is not JSON-safe or does not match its schema: \$\.max is -Infinity/,
    );
  });
  it('state that changes meaning across a JSON round trip', () => {
    const c = conformanceChecks(broken.loses_undefined_on_restore!, { half: 1 });
    expect(failure(fc.property(asOps, (o) => c.checkpointAt(o, 1)))).toMatch(/restored at 1/);
    expect(failure(fc.property(asOps, (o) => c.checkpointEveryCall(o)))).toMatch(/round trip after every call/);
  });
  it('state that does not match its declared schema', () => {
    const schema = Type.Object({ prev: Type.Union([Type.Number(), Type.Null()]) }, { additionalProperties: false });
    const leaky: Def<{ prev: number | null }> = {
      ...good,
      step: (p, s, x, out, l) => good.step(p, Object.assign(s, { extra: 1 }), x, out, l),
    };
    const c = conformanceChecks(leaky, { half: 1 }, undefined, schema);
    expect(failure(fc.property(asOps, (o) => c.wellBehaved(o)))).toMatch(
      /state after call #0 does not match its schema/,
    );
    expect(() => conformanceChecks(good, { half: 1 }, undefined, schema).wellBehaved([])).not.toThrow();
  });
  it('a Map in state', () => {
    const c = conformanceChecks(broken.mapInState!, { half: 1 });
    expect(failure(fc.property(asOps, (o) => c.wellBehaved(o)))).toMatch(/not a plain object/);
  });
});

describe('helpers', () => {
  it('collectFindings records copies and clears', () => {
    const out = collectFindings();
    const f = { severity: 'info' as const, reason: 'r', detail: { a: 1 } };
    out.finding(f);
    f.detail.a = 2;
    expect(out.findings).toEqual([{ severity: 'info', reason: 'r', detail: { a: 1 } }]);
    out.clear();
    expect(out.findings).toEqual([]);
  });

  it('jsonProblem names the offending path', () => {
    expect(jsonProblem({ a: [1, { b: NaN }] })).toBe('$.a[1].b is NaN');
    expect(jsonProblem({ a: undefined })).toBe('$.a is undefined');
    expect(jsonProblem({ a: [1, 'x', null, true] })).toBeNull();
    expect(jsonProblem(new Array(2))).toBe('$[0] is a hole');
  });

  it('deepFreeze freezes nested values', () => {
    const x = deepFreeze({ a: { b: [1] } });
    expect(Object.isFrozen(x.a.b)).toBe(true);
  });

  it('generated steps and ticks have non-decreasing, finite times', () => {
    fc.assert(
      fc.property(withTicks(scalarObservations({ maxLength: 30 })), (ops) => {
        const times = ops.map((op) => (op.kind === 'step' ? op.input.time : op.now));
        times.forEach((t, i) => {
          expect(Number.isFinite(t)).toBe(true);
          if (i > 0) expect(t).toBeGreaterThanOrEqual(times[i - 1]!);
        });
      }),
      { numRuns: 50 },
    );
  });
});
