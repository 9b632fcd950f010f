import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRule, parseRule, RULE_VARIABLES, RuleError, type RuleValues } from './rule.ts';

const sparkJobs = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../..'), 'spark/jobs');

/** Random well-typed rules as text, with every operator and some redundant parentheses. */
const numExpr: fc.Arbitrary<string> = fc.letrec<{ n: string }>((tie) => ({
  n: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...RULE_VARIABLES),
    fc.integer({ min: 0, max: 50 }).map(String),
    fc.constantFrom('0.5', '2.25', '1e1'),
    fc.tuple(tie('n'), fc.constantFrom('+', '-', '*', '/'), tie('n')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('n').map((a) => `-${a}`),
  ),
})).n;
const boolExpr: fc.Arbitrary<string> = fc.letrec<{ b: string }>((tie) => ({
  b: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(numExpr, fc.constantFrom('<', '<=', '>', '>=', '==', '!='), numExpr)
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(tie('b'), fc.constantFrom('and', 'or'), tie('b')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
    tie('b').map((a) => `not (${a})`),
  ),
})).b;
const values: fc.Arbitrary<RuleValues> = fc.record({
  count: fc.integer({ min: 0, max: 100 }),
  mean: fc.double({ min: -100, max: 100, noNaN: true }),
  std: fc.option(fc.double({ min: 0, max: 50, noNaN: true }), { nil: null }),
  min: fc.double({ min: -100, max: 100, noNaN: true }),
  max: fc.double({ min: -100, max: 100, noNaN: true }),
  sum: fc.double({ min: -1000, max: 1000, noNaN: true }),
});

describe('rule language', () => {
  it('evaluates with the usual precedence, and a missing std makes its comparison false', () => {
    const env = { count: 12, mean: 3, std: 6, min: 0, max: 20, sum: 36 };
    expect(evaluateRule(parseRule('std > 5 and count >= 10'), env)).toBe(true);
    expect(evaluateRule(parseRule('mean + 2 * std > 14'), env)).toBe(true); // 3 + 12 = 15
    expect(evaluateRule(parseRule('(mean + 2) * std > 31'), env)).toBe(false); // 30
    expect(evaluateRule(parseRule('not count < 5 or max - min > 100'), env)).toBe(true);
    expect(evaluateRule(parseRule('sum / (count - 12) > 0'), env)).toBe(false); // division by zero
    expect(evaluateRule(parseRule('std > 0'), { ...env, std: null })).toBe(false);
    expect(evaluateRule(parseRule('-mean < -2'), env)).toBe(true);
  });

  it('rejects what is not a condition over the aggregates, naming the column', () => {
    const err = (src: string): [string, number] => {
      try {
        parseRule(src);
      } catch (e) {
        if (e instanceof RuleError) return [e.message, e.column];
        throw e;
      }
      throw new Error(`"${src}" parsed`);
    };
    expect(err('mean')).toEqual(['expected a condition (a comparison such as std > 5), got a number', 1]);
    expect(err('std > 5 and median < 3')[1]).toBe(13);
    expect(err('count >')).toEqual([
      "unexpected end of rule; expected a number, one of count, mean, std, min, max, sum or '('",
      8,
    ]);
    expect(err('(std > 1) + 2')[0]).toBe('expected a number here, got a condition');
    expect(err('std > 1 count')[0]).toBe("unexpected 'count' after a complete rule");
    expect(err('std > 1; drop')).toEqual(["unexpected character ';'", 8]);
    expect(err('(mean > 1')[0]).toBe("expected ')', got end of rule");
    expect(err('__import__("os") > 1')).toEqual(["unexpected character '\"'", 12]);
  });

  it('parses every well-typed rule it generates, deterministically', () => {
    fc.assert(
      fc.property(boolExpr, values, (src, env) => {
        const tree = parseRule(src);
        expect(parseRule(src)).toEqual(tree);
        expect(typeof evaluateRule(tree, env)).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the Spark job (spark/jobs/stream.py) on random rules and windows', async () => {
    const cases = fc.sample(fc.tuple(boolExpr, values), { numRuns: 200, seed: 42 });
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(sparkJobs)})`,
      'from stream import parse_rule, evaluate',
      'print(json.dumps([bool(evaluate(parse_rule(s), e)) for s, e in json.load(sys.stdin)]))',
    ].join('\n');
    const py = promisify(execFile)('python3', ['-c', script], { timeout: 60_000 });
    py.child.stdin?.end(JSON.stringify(cases));
    const { stdout } = await py;
    const fromPython = JSON.parse(stdout) as boolean[];
    expect(fromPython).toEqual(cases.map(([src, env]) => evaluateRule(parseRule(src), env)));
    // Not a vacuous agreement: both outcomes occur.
    expect(new Set(fromPython).size).toBe(2);
  });
});
