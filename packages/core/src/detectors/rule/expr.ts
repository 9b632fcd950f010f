/**
 * A small, safe expression language for rule detectors: tokenizer + recursive-descent parser
 * compiling to a tree of closures. No eval, no Function, no property access beyond own fields.
 *
 *   literals      42  1.5  2e3  "off"  'off'  true  false
 *   names         value  flow_m3h  user.name  event.outcome   (letters, digits, _ and .)
 *   operators     not  and  or   == != < <= > >=   + - * /   ( )
 *
 * `value` is the observation's value; any other name is looked up in its fields. A missing field,
 * arithmetic on non-numbers and division by zero give "missing", and every comparison with a
 * missing operand is false (so `x != 1` is false when x is absent). `==`/`!=` never coerce types.
 * `and`/`or`/`not` treat anything but `true` as false.
 *
 * @example
 * const r = compileRule('flow_m3h > 1 and pump_state == "off"');
 * r.test(0, { flow_m3h: 3.2, pump_state: 'off' }); // true
 * r.names;                                        // ['flow_m3h', 'pump_state']
 */
import type { Scalar } from '../../schema/events.ts';

export class RuleSyntaxError extends Error {
  readonly code = 'E_RULE_SYNTAX';
  constructor(
    readonly expr: string,
    /** 1-based column of the problem. */
    readonly column: number,
    readonly problem: string,
  ) {
    super(`column ${column}: ${problem} in ${JSON.stringify(expr)}`);
  }
}

/** A value during evaluation; undefined is "missing". */
type Val = Scalar | undefined;
/** Value and fields are passed as two arguments, so evaluating allocates nothing. */
type Node = (v: number, f: Readonly<Record<string, Scalar>>) => Val;

export interface CompiledRule {
  readonly source: string;
  /** Names the expression reads, in first-use order (for showing their values in reasons). */
  readonly names: readonly string[];
  /** The raw result of the expression. */
  evaluate(value: number, fields: Readonly<Record<string, Scalar>>): Val;
  /** True only when the expression evaluates to `true`. */
  test(value: number, fields: Readonly<Record<string, Scalar>>): boolean;
}

export const MAX_EXPR_LENGTH = 4096;
const MAX_DEPTH = 64;

type TokKind = 'num' | 'str' | 'name' | 'op' | 'end';
interface Token {
  kind: TokKind;
  text: string;
  /** Parsed literal for num/str. */
  lit?: number | string;
  col: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false']);
const TWO_CHAR_OPS = new Set(['==', '!=', '<=', '>=']);
const ONE_CHAR_OPS = new Set(['<', '>', '+', '-', '*', '/', '(', ')']);

function tokenize(src: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  const fail = (at: number, problem: string): never => {
    throw new RuleSyntaxError(src, at + 1, problem);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      i += m[0].length;
      if (/[A-Za-z_]/.test(src[i] ?? '')) fail(i, `unexpected "${src[i]}" after the number ${m[0]}`);
      toks.push({ kind: 'num', text: m[0], lit: Number(m[0]), col: start + 1 });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i))!;
      i += m[0].length;
      if (m[0].endsWith('.')) fail(i - 1, `a name cannot end with "." (${m[0]})`);
      toks.push({ kind: 'name', text: m[0], col: start + 1 });
      continue;
    }
    if (c === '"' || c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) fail(start, 'unterminated string (missing closing quote)');
        const d = src[i]!;
        if (d === c) break;
        if (d === '\\') {
          const e = src[i + 1];
          if (e === c || e === '\\') s += e;
          else if (e === 'n') s += '\n';
          else if (e === 't') s += '\t';
          else fail(i, `unknown escape "\\${e ?? ''}" (use \\\\, \\n, \\t or \\${c})`);
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      i++;
      toks.push({ kind: 'str', text: src.slice(start, i), lit: s, col: start + 1 });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      toks.push({ kind: 'op', text: two, col: start + 1 });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(c)) {
      toks.push({ kind: 'op', text: c, col: start + 1 });
      i++;
      continue;
    }
    if (c === '=') fail(i, 'unexpected "=" (use "==" to compare)');
    if (c === '&' || c === '|' || c === '!') fail(i, `unexpected "${c}" (use and, or, not)`);
    fail(i, `unexpected character "${c}"`);
  }
  toks.push({ kind: 'end', text: 'end of expression', col: src.length + 1 });
  return toks;
}

// ---------------------------------------------------------------------------------------------
// Semantics of the operators (missing propagates; no coercion)

const isNum = (v: Val): v is number => typeof v === 'number';

function arith(op: string, a: Val, b: Val): Val {
  if (!isNum(a) || !isNum(b)) return undefined;
  let r: number;
  if (op === '+') r = a + b;
  else if (op === '-') r = a - b;
  else if (op === '*') r = a * b;
  else r = b === 0 ? NaN : a / b;
  return Number.isFinite(r) ? r : undefined;
}

function compare(op: string, a: Val, b: Val): boolean {
  if (a === undefined || b === undefined) return false;
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  if (typeof a !== typeof b || typeof a === 'boolean') return false;
  const x = a;
  const y = b as number | string;
  if (op === '<') return x < y;
  if (op === '<=') return x <= y;
  if (op === '>') return x > y;
  return x >= y;
}

// ---------------------------------------------------------------------------------------------
// Parser: or → and → not → comparison → additive → multiplicative → unary → primary

class Parser {
  private pos = 0;
  readonly names: string[] = [];
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  private peek(): Token {
    return this.toks[this.pos]!;
  }
  private next(): Token {
    return this.toks[this.pos++]!;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }
  private isWord(word: string): boolean {
    const t = this.peek();
    return t.kind === 'name' && t.text === word;
  }
  private fail(t: Token, expected: string): never {
    const got = t.kind === 'end' ? 'the end of the expression' : `"${t.text}"`;
    throw new RuleSyntaxError(this.src, t.col, `expected ${expected}, got ${got}`);
  }

  parse(): Node {
    const n = this.or();
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t, 'an operator (and, or, ==, <, +, ...) or the end');
    return n;
  }

  private nest<T>(f: () => T): T {
    if (++this.depth > MAX_DEPTH)
      throw new RuleSyntaxError(this.src, this.peek().col, `nesting deeper than ${MAX_DEPTH}`);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private or(): Node {
    let left = this.and();
    while (this.isWord('or')) {
      this.next();
      const a = left;
      const b = this.and();
      left = (v, f) => a(v, f) === true || b(v, f) === true;
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.isWord('and')) {
      this.next();
      const a = left;
      const b = this.not();
      left = (v, f) => a(v, f) === true && b(v, f) === true;
    }
    return left;
  }

  private not(): Node {
    if (this.isWord('not')) {
      this.next();
      const a = this.nest(() => this.not());
      return (v, f) => a(v, f) !== true;
    }
    return this.comparison();
  }

  private comparison(): Node {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === 'op' && (TWO_CHAR_OPS.has(t.text) || t.text === '<' || t.text === '>')) {
      this.next();
      const op = t.text;
      const right = this.additive();
      const u = this.peek();
      if (u.kind === 'op' && (TWO_CHAR_OPS.has(u.text) || u.text === '<' || u.text === '>'))
        throw new RuleSyntaxError(
          this.src,
          u.col,
          `comparisons cannot be chained ("a < b < c"); use "a < b and b < c"`,
        );
      return (v, f) => compare(op, left(v, f), right(v, f));
    }
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text;
      const a = left;
      const b = this.multiplicative();
      left = (v, f) => arith(op, a(v, f), b(v, f));
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const op = this.next().text;
      const a = left;
      const b = this.unary();
      left = (v, f) => arith(op, a(v, f), b(v, f));
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp('-')) {
      this.next();
      const a = this.nest(() => this.unary());
      return (v, f) => {
        const x = a(v, f);
        return isNum(x) ? -x : undefined;
      };
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.next();
    if (t.kind === 'num') {
      const v = t.lit as number;
      if (!Number.isFinite(v)) throw new RuleSyntaxError(this.src, t.col, `number ${t.text} is out of range`);
      return () => v;
    }
    if (t.kind === 'str') {
      const v = t.lit as string;
      return () => v;
    }
    if (t.kind === 'op' && t.text === '(') {
      const inner = this.nest(() => this.or());
      if (!this.isOp(')')) this.fail(this.peek(), `")" to close the "(" at column ${t.col}`);
      this.next();
      return inner;
    }
    if (t.kind === 'name') {
      if (t.text === 'true') return () => true;
      if (t.text === 'false') return () => false;
      if (KEYWORDS.has(t.text)) this.fail(t, 'a value (number, string, name or "(")');
      const name = t.text;
      if (!this.names.includes(name)) this.names.push(name);
      if (name === 'value') return (v) => v;
      // Own properties only: "constructor" or "__proto__" must not reach the prototype.
      return (v, f) => (Object.hasOwn(f, name) ? f[name] : undefined);
    }
    return this.fail(t, 'a value (number, string, name or "(")');
  }
}

/** Parses and compiles `src`; throws RuleSyntaxError naming the column and what was expected. */
export function compileRule(src: string): CompiledRule {
  if (src.length > MAX_EXPR_LENGTH)
    throw new RuleSyntaxError(src.slice(0, 40) + '…', 1, `longer than ${MAX_EXPR_LENGTH} characters`);
  const parser = new Parser(src, tokenize(src));
  const root = parser.parse();
  const names = parser.names.slice();
  return {
    source: src,
    names,
    evaluate: (value, fields) => root(value, fields),
    test: (value, fields) => root(value, fields) === true,
  };
}
