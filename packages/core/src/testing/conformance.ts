/**
 * The detector conformance suite: one set of property-based checks (fast-check) that every
 * detector must pass, declared as vitest tests. It is test-only code: import it from `*.test.ts`.
 *
 * Checks: the definition is well formed (snake_case type, params with defaults and descriptions,
 * a YAML example naming the type); determinism; checkpoint equivalence at any split point (run
 * straight through vs run to k, `JSON.parse(JSON.stringify(state))`, continue); checkpoint at every
 * step; scores finite and in [0,1] or null; findings well formed; inputs never mutated (they are
 * deep-frozen); state JSON-safe after every call; constant input gives no NaN. When the detector has
 * `tick`, ticks are interleaved with steps and obey the same checks.
 *
 * @example
 * import { describeConformance } from '../../testing/conformance.ts';
 * describeConformance(rollingZScore, { params: { window_points: 20, min_points: 3 } });
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type {
  DetectorDef,
  Finding,
  FindingSink,
  Observation,
  StepLabels,
  VectorObservation,
} from '../detectors/contract.ts';
import { resolveParams } from '../detectors/params.ts';
import { Value } from '@sinclair/typebox/value';
import type { Scalar } from '../schema/events.ts';

/** An array-backed FindingSink for tests: `const out = collectFindings(); d.step(p, s, x, out, labels); out.findings`. */
export interface CollectedFindings extends FindingSink {
  readonly findings: Finding[];
  /** Empties the array (keeps the same sink object). */
  clear(): void;
}

export function collectFindings(): CollectedFindings {
  const findings: Finding[] = [];
  return {
    findings,
    finding(f: Finding) {
      // Copy so a detector that reuses a finding object cannot rewrite history.
      findings.push(structuredClone(f));
    },
    clear() {
      findings.length = 0;
    },
  };
}

/** One call made on a detector: a step with an input, or a tick at `now`. */
export type Op<I> = { readonly kind: 'step'; readonly input: I } | { readonly kind: 'tick'; readonly now: number };

/** What one call produced. */
export interface TraceEntry {
  score: number | null;
  findings: Finding[];
}

export const DEFAULT_LABELS: StepLabels = { key: 'plant-a/P-101', metric: 'flow_m3h', unit: 'm3/h' };

const T0 = 1_700_000_000_000;

export interface ConformanceOptions<I> {
  /** Raw params (resolved with resolveParams). Default `{}`. */
  params?: unknown;
  /**
   * Optional arbitrary of raw params drawn for each run (instead of `params`), so edge settings
   * (zero floors, tiny windows) are explored too. Must only produce valid params.
   */
  randomParams?: fc.Arbitrary<Record<string, unknown>>;
  /** Sequences of observations with non-decreasing times. Defaults to `scalarObservations()` / `vectorObservations()`. */
  inputs?: fc.Arbitrary<I[]>;
  /** Constant-value sequences for the "no NaN on constant input" check. Defaults by input kind. */
  constantInputs?: fc.Arbitrary<I[]>;
  /** Schema of the state (as a checkpoint restore would validate it); checked after init and every call. */
  stateSchema?: TSchema;
  /** fast-check runs per property. Default 100. */
  numRuns?: number;
  /** Fixed seed for reproducible runs (fast-check prints the seed of a failure). */
  seed?: number;
  labels?: StepLabels;
  /** Name of the describe block. Default `conformance: <type>`. */
  name?: string;
}

// ---------------------------------------------------------------------------------------------
// Input generators

const fieldValue: fc.Arbitrary<Scalar> = fc.oneof(
  fc.constantFrom('on', 'off', 'open', 'closed', ''),
  fc.integer({ min: -1000, max: 1000 }),
  fc.boolean(),
);
const fieldsArb = fc.dictionary(fc.constantFrom('pump_state', 'valve', 'flow_m3h', 'user.name', 'level'), fieldValue, {
  maxKeys: 3,
});

/** Gaps between events in ms: mostly regular, sometimes equal times, sometimes long silences. */
const gapArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 5_000 }) },
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 3_600_000 }) },
);

/**
 * Values: plant-scale doubles, small integers (so repeats and ties happen), and bursts of one value.
 * Magnitudes stay within ±1e9: detectors keep sums of squares, and physical signals are far inside that.
 */
export const valueArb: fc.Arbitrary<number> = fc.oneof(
  fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -5, max: 5 }),
  fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e-12, 42.5),
);

/** Turns gaps into cumulative times starting at `start`. */
function withTimes<T>(items: Array<{ gap: number } & T>, start = T0): Array<T & { time: number }> {
  let t = start;
  return items.map(({ gap, ...rest }) => {
    t += gap;
    return { ...(rest as unknown as T), time: t };
  });
}

export function scalarObservations(
  opts: { maxLength?: number; values?: fc.Arbitrary<number> } = {},
): fc.Arbitrary<Observation[]> {
  const values = opts.values ?? valueArb;
  return fc
    .array(fc.record({ gap: gapArb, value: values, fields: fieldsArb }), { maxLength: opts.maxLength ?? 80 })
    .map((xs) => withTimes(xs));
}

export function vectorObservations(
  opts: { maxLength?: number; maxDims?: number } = {},
): fc.Arbitrary<VectorObservation[]> {
  return fc.integer({ min: 1, max: opts.maxDims ?? 4 }).chain((dims) =>
    fc
      .array(
        fc.record({
          gap: gapArb,
          values: fc.array(valueArb, { minLength: dims, maxLength: dims }),
          fields: fieldsArb,
        }),
        { maxLength: opts.maxLength ?? 60 },
      )
      .map((xs) => withTimes(xs)),
  );
}

export function constantScalarObservations(maxLength = 120): fc.Arbitrary<Observation[]> {
  return fc
    .tuple(valueArb, fc.array(fc.record({ gap: gapArb }), { minLength: 1, maxLength }))
    .map(([value, gaps]) => withTimes(gaps.map((g) => ({ ...g, value, fields: {} }))));
}

export function constantVectorObservations(maxLength = 80): fc.Arbitrary<VectorObservation[]> {
  return fc
    .tuple(
      fc.array(valueArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.record({ gap: gapArb }), { minLength: 1, maxLength }),
    )
    .map(([values, gaps]) => withTimes(gaps.map((g) => ({ ...g, values, fields: {} }))));
}

/**
 * Interleaves ticks with steps: before each input, maybe a tick somewhere between the previous
 * event time and this one; and maybe one after the last input, up to an hour later.
 */
export function withTicks<I extends { time: number }>(inputs: fc.Arbitrary<I[]>): fc.Arbitrary<Array<Op<I>>> {
  return inputs.chain((xs) =>
    fc
      .tuple(
        fc.array(fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), {
          minLength: xs.length,
          maxLength: xs.length,
        }),
        fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
      )
      .map(([fractions, tail]) => {
        const ops: Array<Op<I>> = [];
        let prev = xs[0]?.time ?? T0;
        xs.forEach((x, i) => {
          const f = fractions[i];
          if (f !== undefined) ops.push({ kind: 'tick', now: Math.floor(prev + (x.time - prev) * f) });
          ops.push({ kind: 'step', input: x });
          prev = x.time;
        });
        if (tail !== undefined) ops.push({ kind: 'tick', now: prev + tail });
        return ops;
      }),
  );
}

// ---------------------------------------------------------------------------------------------
// Running and checking

/** Freezes a value and everything reachable from it, so any mutation throws in strict mode. */
export function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x as object)) deepFreeze(v);
  }
  return x;
}

/** Replays ops on `state` (mutated in place), calling `afterEach` after each op. */
export function runOps<P extends TObject, S, I>(
  def: DetectorDef<P, S, I>,
  params: Static<P>,
  state: S,
  ops: ReadonlyArray<Op<I>>,
  labels: StepLabels = DEFAULT_LABELS,
  afterEach?: (i: number, state: S) => S,
): { trace: TraceEntry[]; state: S } {
  const trace: TraceEntry[] = [];
  const out = collectFindings();
  let s = state;
  ops.forEach((op, i) => {
    out.clear();
    let score: number | null;
    if (op.kind === 'step') score = def.step(params, s, op.input, out, labels);
    else score = def.tick ? def.tick(params, s, op.now, out, labels) : null;
    trace.push({ score, findings: out.findings.slice() });
    if (afterEach) s = afterEach(i, s);
  });
  return { trace, state: s };
}

/** Returns a description of the first value in `x` that JSON would not carry faithfully, or null. */
export function jsonProblem(x: unknown, path = '$'): string | null {
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return null;
  if (typeof x === 'number') return Number.isFinite(x) ? null : `${path} is ${x}`;
  if (x === undefined) return `${path} is undefined`;
  if (typeof x !== 'object') return `${path} is a ${typeof x}`;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      if (!(i in x)) return `${path}[${i}] is a hole`;
      const p = jsonProblem(x[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(x) as unknown;
  if (proto !== Object.prototype && proto !== null) return `${path} is not a plain object`;
  for (const [k, v] of Object.entries(x)) {
    const p = jsonProblem(v, `${path}.${k}`);
    if (p) return p;
  }
  return null;
}

const roundTrip = <S>(s: S): S => JSON.parse(JSON.stringify(s)) as S;

function checkTrace(trace: TraceEntry[]): void {
  trace.forEach((e, i) => {
    if (e.score !== null) {
      expect(Number.isFinite(e.score), `score #${i} is ${e.score}`).toBe(true);
      expect(e.score, `score #${i}`).toBeGreaterThanOrEqual(0);
      expect(e.score, `score #${i}`).toBeLessThanOrEqual(1);
    }
    for (const f of e.findings) {
      expect(['info', 'warning', 'critical'], `finding #${i} severity`).toContain(f.severity);
      expect(typeof f.reason === 'string' && f.reason.length > 0, `finding #${i} has a reason`).toBe(true);
      expect(f.reason, `finding #${i} reason`).not.toMatch(/NaN|undefined|\[object/);
      if (f.detail) expect(jsonProblem(f.detail), `finding #${i} detail`).toBeNull();
    }
  });
}

/** JSON text of a trace: compares -0 and 0 as equal, everything else exactly. */
const traceText = (t: TraceEntry[]): string => JSON.stringify(t);

function paramsHaveDocs(schema: TObject): string[] {
  const problems: string[] = [];
  for (const [name, prop] of Object.entries<TSchema>(schema.properties)) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.push(`${name}: not snake_case`);
    if (typeof prop.description !== 'string' || prop.description.length < 5) problems.push(`${name}: no description`);
    // Required params without a default are allowed (a rule's expression has no sensible default).
  }
  return problems;
}

function findType(doc: unknown, type: string): boolean {
  if (doc === null || typeof doc !== 'object') return false;
  if ((doc as { type?: unknown }).type === type) return true;
  return Object.values(doc).some((v) => findType(v, type));
}

/** The checks of the suite as plain functions over one op sequence; each throws on failure. */
export interface ConformanceChecks<I> {
  deterministic(ops: ReadonlyArray<Op<I>>): void;
  checkpointAt(ops: ReadonlyArray<Op<I>>, k: number): void;
  checkpointEveryCall(ops: ReadonlyArray<Op<I>>): void;
  wellBehaved(ops: ReadonlyArray<Op<I>>): void;
}

export function conformanceChecks<P extends TObject, S, I>(
  def: DetectorDef<P, S, I>,
  params: Static<P>,
  labels: StepLabels = DEFAULT_LABELS,
  stateSchema?: TSchema,
): ConformanceChecks<I> {
  const run = (o: ReadonlyArray<Op<I>>, afterEach?: (i: number, s: S) => S) =>
    runOps(def, params, def.init(params), o, labels, afterEach);
  const schemaProblem = (s: S): string | null => {
    if (stateSchema === undefined || Value.Check(stateSchema, s)) return null;
    const e = Value.Errors(stateSchema, s).First();
    return e ? `${e.path || '/'} ${e.message}` : 'does not match';
  };
  const jsonSafe = (i: number, s: S): S => {
    const p = jsonProblem(s);
    if (p) throw new Error(`${def.type}: state after call #${i} is not JSON-safe: ${p}`);
    const q = schemaProblem(s);
    if (q) throw new Error(`${def.type}: state after call #${i} does not match its schema: ${q}`);
    return s;
  };
  return {
    deterministic(o) {
      const frozen = deepFreeze(o);
      const a = run(frozen);
      const b = run(frozen);
      expect(traceText(b.trace), 'second run gives the same trace').toBe(traceText(a.trace));
      expect(JSON.stringify(b.state), 'second run ends in the same state').toBe(JSON.stringify(a.state));
    },
    checkpointAt(o, k) {
      const frozen = deepFreeze(o);
      const straight = run(frozen);
      const first = run(frozen.slice(0, k));
      const restored = runOps(def, params, roundTrip(first.state), frozen.slice(k), labels);
      expect(traceText([...first.trace, ...restored.trace]), `restored at ${k} gives the same trace`).toBe(
        traceText(straight.trace),
      );
      expect(JSON.stringify(restored.state), `restored at ${k} ends in the same state`).toBe(
        JSON.stringify(straight.state),
      );
    },
    checkpointEveryCall(o) {
      const frozen = deepFreeze(o);
      const straight = run(frozen);
      const everyStep = run(frozen, (_i, s) => roundTrip(s));
      expect(traceText(everyStep.trace), 'round trip after every call gives the same trace').toBe(
        traceText(straight.trace),
      );
    },
    wellBehaved(o) {
      const snapshot = JSON.stringify(o);
      // Frozen inputs make any write throw (ESM is strict mode); the snapshot catches the rest.
      const frozen = deepFreeze(o);
      const s0 = def.init(params);
      const init = jsonProblem(s0) ?? schemaProblem(s0);
      if (init) throw new Error(`${def.type}: initial state is not JSON-safe or does not match its schema: ${init}`);
      const { trace, state } = run(frozen, jsonSafe);
      checkTrace(trace);
      expect(jsonProblem(state)).toBeNull();
      expect(JSON.stringify(o), 'inputs unchanged').toBe(snapshot);
    },
  };
}

/**
 * Declares the conformance tests for `def`. Call at the top level of a test file.
 */
export function describeConformance<P extends TObject, S, I extends { time: number }>(
  def: DetectorDef<P, S, I>,
  options: ConformanceOptions<I> = {},
): void {
  const isVector = def.input === 'vector';
  const inputs =
    options.inputs ?? ((isVector ? vectorObservations() : scalarObservations()) as unknown as fc.Arbitrary<I[]>);
  const constant =
    options.constantInputs ??
    ((isVector ? constantVectorObservations() : constantScalarObservations()) as unknown as fc.Arbitrary<I[]>);
  const numRuns = options.numRuns ?? 100;
  const labels = options.labels ?? DEFAULT_LABELS;
  const fcOpts = options.seed === undefined ? { numRuns } : { numRuns, seed: options.seed };
  const toOps = (a: fc.Arbitrary<I[]>): fc.Arbitrary<Array<Op<I>>> =>
    def.tick ? withTicks(a) : a.map((xs) => xs.map((input): Op<I> => ({ kind: 'step', input })));
  const ops = toOps(inputs);

  describe(options.name ?? `conformance: ${def.type}`, () => {
    const params = resolveParams(def as DetectorDef<P, unknown, never>, options.params ?? {});
    const fixed = conformanceChecks(def, params, labels, options.stateSchema);
    // With `randomParams`, each run draws its own params as well as its inputs (`params` then only serves the fixed checks).
    const random = options.randomParams;
    const withChecks = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<[ConformanceChecks<I>, T]> =>
      random === undefined
        ? a.map((x): [ConformanceChecks<I>, T] => [fixed, x])
        : fc.tuple(random, a).map(([raw, x]): [ConformanceChecks<I>, T] => {
            return [
              conformanceChecks(
                def,
                resolveParams(def as DetectorDef<P, unknown, never>, raw),
                labels,
                options.stateSchema,
              ),
              x,
            ];
          });

    it('is well formed: snake_case type, summary, documented params, YAML example naming the type', () => {
      expect(def.type).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(def.summary.length).toBeGreaterThan(10);
      expect(Number.isInteger(def.stateVersion) && def.stateVersion >= 1).toBe(true);
      expect(paramsHaveDocs(def.params)).toEqual([]);
      const doc: unknown = parseYaml(def.example);
      expect(findType(doc, def.type), `example mentions type: ${def.type}`).toBe(true);
    });

    it('init gives a JSON-safe state that survives a round trip', () => {
      const s = def.init(params);
      expect(jsonProblem(s)).toBeNull();
      if (options.stateSchema)
        expect([...Value.Errors(options.stateSchema, s)].map((e) => `${e.path} ${e.message}`)).toEqual([]);
      expect(roundTrip(s)).toEqual(s);
    });

    it('is deterministic: same inputs give the same scores, findings and state', () => {
      fc.assert(
        fc.property(withChecks(ops), ([c, o]) => c.deterministic(o)),
        fcOpts,
      );
    });

    it('checkpoint at any split point: straight run equals run to k, JSON round trip, continue', () => {
      const opsAndSplit = ops.chain((o) => fc.tuple(fc.constant(o), fc.integer({ min: 0, max: o.length })));
      fc.assert(
        fc.property(withChecks(opsAndSplit), ([c, [o, k]]) => c.checkpointAt(o, k)),
        fcOpts,
      );
    });

    it('checkpoint after every call changes nothing', () => {
      fc.assert(
        fc.property(withChecks(ops), ([c, o]) => c.checkpointEveryCall(o)),
        fcOpts,
      );
    });

    it('scores are finite and in [0,1] or null; findings well formed; state JSON-safe; inputs unmutated', () => {
      fc.assert(
        fc.property(withChecks(ops), ([c, o]) => c.wellBehaved(o)),
        fcOpts,
      );
    });

    it('constant input gives no NaN and a JSON-safe state', () => {
      fc.assert(
        fc.property(withChecks(toOps(constant)), ([c, o]) => c.wellBehaved(o)),
        fcOpts,
      );
    });
  });
}
