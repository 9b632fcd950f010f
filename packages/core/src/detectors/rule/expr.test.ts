import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Scalar } from '../../schema/events.ts';
import { compileRule, RuleSyntaxError } from './expr.ts';

const f = { flow_m3h: 3.2, pump_state: 'off', 'user.name': 'bob', ok: true, zero: 0 } as const;

describe('rule expressions: evaluation', () => {
  const cases: Array<[string, Scalar | undefined]> = [
    ['flow_m3h > 1 and pump_state == "off"', true],
    ["pump_state == 'on'", false],
    ['value * 2 + 1', 21],
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['8 / 4 / 2', 1],
    ['-value', -10],
    ['- -2', 2],
    ['2e1 == 20', true],
    ['.5 + 0.25', 0.75],
    ['not ok', false],
    ['not not ok', true],
    ['true or false and false', true],
    ['(true or false) and false', false],
    ['not flow_m3h > 5', true],
    ['user.name == "bob"', true],
    ['"a" < "b"', true],
    ['missing_field != 1', false],
    ['missing_field == missing_field', false],
    ['missing_field + 1', undefined],
    ['flow_m3h / zero', undefined],
    ['pump_state + 1', undefined],
    ['1 == "1"', false],
    ['1 != "1"', true],
    ['true < false', false],
    ['constructor == constructor', false],
    ['"say \\"hi\\"" == \'say "hi"\'', true],
  ];
  it.each(cases)('%s → %s', (src, want) => {
    expect(compileRule(src).evaluate(10, f)).toEqual(want);
  });

  it('lists the names it reads, once each, in order', () => {
    expect(compileRule('value > 1 and pump_state == "off" or value < 0 and user.name == "x"').names).toEqual([
      'value',
      'pump_state',
      'user.name',
    ]);
  });

  it('test() is true only for a true result', () => {
    expect(compileRule('flow_m3h').test(0, f)).toBe(false);
    expect(compileRule('ok').test(0, f)).toBe(true);
  });
});

describe('rule expressions: syntax errors name the column and what was expected', () => {
  const bad: Array<[string, RegExp]> = [
    ['flow_m3h >', /^column 11: expected a value \(number, string, name or "\("\), got the end of the expression/],
    ['flow_m3h = 1', /^column 10: unexpected "=" \(use "==" to compare\)/],
    ['(a > 1', /^column 7: expected "\)" to close the "\(" at column 1, got the end/],
    ['a > 1 b', /^column 7: expected an operator .* or the end, got "b"/],
    ['a && b', /^column 3: unexpected "&" \(use and, or, not\)/],
    ['"open', /^column 1: unterminated string/],
    ['a # b', /^column 3: unexpected character "#"/],
    ['1 < a < 3', /^column 7: comparisons cannot be chained/],
    ['a and or b', /^column 7: expected a value .*, got "or"/],
    ['12abc > 1', /^column 3: unexpected "a" after the number 12/],
    ['x. > 1', /^column 2: a name cannot end with "."/],
    ['"a\\q"', /^column 3: unknown escape/],
    ['', /^column 1: expected a value .*, got the end/],
    ['1e999 > 1', /^column 1: number 1e999 is out of range/],
  ];
  it.each(bad)('%s', (src, msg) => {
    let err: unknown;
    try {
      compileRule(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleSyntaxError);
    expect((err as RuleSyntaxError).code).toBe('E_RULE_SYNTAX');
    expect((err as Error).message).toMatch(msg);
  });

  it('bounds nesting depth and length', () => {
    expect(() => compileRule('('.repeat(100) + '1' + ')'.repeat(100))).toThrow(/nesting deeper than 64/);
    expect(() => compileRule('not '.repeat(100) + 'true')).toThrow(/nesting deeper than 64/);
    expect(() => compileRule('1 + '.repeat(2000) + '1')).toThrow(/longer than 4096/);
  });

  it('random token soup either compiles or throws RuleSyntaxError, never anything else', () => {
    const piece = fc.constantFrom(
      'a',
      'b.c',
      '1',
      '2.5',
      '"s"',
      "'t'",
      '(',
      ')',
      'and',
      'or',
      'not',
      '==',
      '!=',
      '<',
      '<=',
      '>',
      '>=',
      '+',
      '-',
      '*',
      '/',
      'true',
      '=',
      '!',
      '#',
      '"',
      ' ',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), fc.string({ maxLength: 5 }), (ps, tail) => {
        const src = ps.join(' ') + tail;
        try {
          const r = compileRule(src);
          r.evaluate(1, { a: 2, 'b.c': 'x' });
        } catch (e) {
          expect(e).toBeInstanceOf(RuleSyntaxError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** Reference: random expression trees printed fully parenthesised, evaluated directly. */
type Ast =
  | { k: 'lit'; v: Scalar }
  | { k: 'name'; n: string }
  | { k: 'neg'; a: Ast }
  | { k: 'not'; a: Ast }
  | { k: 'bin'; op: string; a: Ast; b: Ast };

const astArb: fc.Arbitrary<Ast> = fc.letrec<{ ast: Ast }>((tie) => ({
  ast: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(0.5, 2.25), fc.constantFrom('on', 'off'), fc.boolean())
      .map((v): Ast => ({ k: 'lit', v })),
    fc
      .constantFrom('value', 'pump_state', 'flow_m3h', 'ok', 'zero', 'nothing', 'user.name')
      .map((n): Ast => ({ k: 'name', n })),
    tie('ast').map((a): Ast => ({ k: 'neg', a })),
    tie('ast').map((a): Ast => ({ k: 'not', a })),
    fc
      .tuple(fc.constantFrom('+', '-', '*', '/', '==', '!=', '<', '<=', '>', '>=', 'and', 'or'), tie('ast'), tie('ast'))
      .map(([op, a, b]): Ast => ({ k: 'bin', op, a, b })),
  ),
})).ast;

function print(a: Ast): string {
  switch (a.k) {
    case 'lit':
      return typeof a.v === 'string' ? JSON.stringify(a.v) : String(a.v);
    case 'name':
      return a.n;
    case 'neg':
      return `-(${print(a.a)})`;
    case 'not':
      return `not (${print(a.a)})`;
    case 'bin':
      return `(${print(a.a)}) ${a.op} (${print(a.b)})`;
  }
}

function refEval(a: Ast, value: number, fields: Record<string, Scalar>): Scalar | undefined {
  switch (a.k) {
    case 'lit':
      return a.v;
    case 'name':
      return a.n === 'value' ? value : Object.hasOwn(fields, a.n) ? fields[a.n] : undefined;
    case 'neg': {
      const v = refEval(a.a, value, fields);
      return typeof v === 'number' ? -v : undefined;
    }
    case 'not':
      return refEval(a.a, value, fields) !== true;
    case 'bin': {
      const x = refEval(a.a, value, fields);
      const y = refEval(a.b, value, fields);
      if (a.op === 'and') return x === true && y === true;
      if (a.op === 'or') return x === true || y === true;
      if (['+', '-', '*', '/'].includes(a.op)) {
        if (typeof x !== 'number' || typeof y !== 'number') return undefined;
        const r = a.op === '+' ? x + y : a.op === '-' ? x - y : a.op === '*' ? x * y : y === 0 ? NaN : x / y;
        return Number.isFinite(r) ? r : undefined;
      }
      if (x === undefined || y === undefined) return false;
      if (a.op === '==') return x === y;
      if (a.op === '!=') return x !== y;
      if (typeof x !== typeof y || typeof x === 'boolean') return false;
      const [p, q] = [x, y as string | number];
      return a.op === '<' ? p < q : a.op === '<=' ? p <= q : a.op === '>' ? p > q : p >= q;
    }
  }
}

describe('rule expressions agree with a direct tree evaluator', () => {
  it('on random trees and random fields', () => {
    const fieldsArb = fc.record(
      {
        pump_state: fc.constantFrom('on', 'off'),
        flow_m3h: fc.integer({ min: -5, max: 5 }),
        ok: fc.boolean(),
        zero: fc.constant(0),
        'user.name': fc.constantFrom('on', 'bob'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(astArb, fc.integer({ min: -5, max: 5 }), fieldsArb, (ast, value, fields) => {
        const src = print(ast);
        const got = compileRule(src).evaluate(value, fields);
        expect(got).toEqual(refEval(ast, value, fields as Record<string, Scalar>));
      }),
      { numRuns: 500 },
    );
  });
});
