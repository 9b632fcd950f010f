/**
 * The rule language of the Spark streaming checks: a boolean expression over one window's
 * aggregates. Small on purpose, parsed (never evaluated as code) by both sides with the same
 * grammar: here to validate a config with a positioned message, in spark/jobs/stream.py to judge.
 *
 *   rule  := or;  or := and ('or' and)*;  and := not ('and' not)*;  not := 'not' not | cmp
 *   cmp   := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum)?;  sum := prod (('+'|'-') prod)*
 *   prod  := unary (('*'|'/') unary)*;  unary := '-' unary | atom
 *   atom  := number | count | mean | std | min | max | sum | '(' or ')'
 *
 * A missing value (std of one reading) or a division by zero makes a comparison false.
 *
 * @example
 * const tree = parseRule('std > 5 and count >= 10');
 * evaluateRule(tree, { count: 12, mean: 3, std: 6, min: 0, max: 20, sum: 36 }); // true
 */

export const RULE_VARIABLES = ['count', 'mean', 'std', 'min', 'max', 'sum'] as const;
export type RuleVariable = (typeof RULE_VARIABLES)[number];

export type RuleNode =
  | { k: 'num'; v: number }
  | { k: 'var'; name: RuleVariable }
  | { k: 'arith'; op: '+' | '-' | '*' | '/'; a: RuleNode; b: RuleNode }
  | { k: 'cmp'; op: '<' | '<=' | '>' | '>=' | '==' | '!='; a: RuleNode; b: RuleNode }
  | { k: 'not'; a: RuleNode }
  | { k: 'and' | 'or'; a: RuleNode; b: RuleNode };

export class RuleError extends Error {
  readonly code = 'E_SPARK_RULE';
  /** 1-based column in the rule text. */
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
    this.name = 'RuleError';
  }
}

interface Token {
  t: 'num' | 'id' | 'op' | 'end';
  s: string;
  at: number;
}

const TOKEN =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|(<=|>=|==|!=|[<>()+\-*/]))/y;
const CMP = new Set(['<', '<=', '>', '>=', '==', '!=']);
const MAX_LENGTH = 500;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    if (src.slice(pos).trim() === '') break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (m === null) {
      const rest = src.slice(pos).trimStart();
      throw new RuleError(`unexpected character '${rest[0] ?? ''}'`, src.length - rest.length + 1);
    }
    const [all, num, id, op] = m;
    const text = num ?? id ?? op ?? '';
    const at = pos + all.length - text.length + 1;
    out.push({ t: num !== undefined ? 'num' : id !== undefined ? 'id' : 'op', s: text, at });
    pos = TOKEN.lastIndex;
  }
  return out;
}

const isBool = (n: RuleNode): boolean => n.k === 'cmp' || n.k === 'not' || n.k === 'and' || n.k === 'or';

/** Parses and type-checks a rule; throws RuleError naming the column of the problem. */
export function parseRule(src: string): RuleNode {
  if (src.length > MAX_LENGTH) throw new RuleError(`rule longer than ${MAX_LENGTH} characters`, MAX_LENGTH + 1);
  const toks = tokenize(src);
  let i = 0;
  const end: Token = { t: 'end', s: '', at: src.length + 1 };
  const peek = (): Token => toks[i] ?? end;
  const take = (): Token => toks[i++] ?? end;
  const is = (t: Token['t'], s: string): boolean => peek().t === t && peek().s === s;

  // Booleans and numbers do not mix: `(a > 1) + 2` or `count and std` are errors, not surprises.
  const num = (n: RuleNode, at: number): RuleNode => {
    if (isBool(n)) throw new RuleError('expected a number here, got a condition', at);
    return n;
  };
  const bool = (n: RuleNode, at: number): RuleNode => {
    if (!isBool(n)) throw new RuleError('expected a condition (a comparison such as std > 5), got a number', at);
    return n;
  };

  const or = (): RuleNode => {
    const at = peek().at;
    let left = and();
    while (is('id', 'or')) {
      take();
      const at2 = peek().at;
      left = { k: 'or', a: bool(left, at), b: bool(and(), at2) };
    }
    return left;
  };
  const and = (): RuleNode => {
    const at = peek().at;
    let left = not();
    while (is('id', 'and')) {
      take();
      const at2 = peek().at;
      left = { k: 'and', a: bool(left, at), b: bool(not(), at2) };
    }
    return left;
  };
  const not = (): RuleNode => {
    if (is('id', 'not')) {
      take();
      const at = peek().at;
      return { k: 'not', a: bool(not(), at) };
    }
    return cmp();
  };
  const cmp = (): RuleNode => {
    const at = peek().at;
    const left = sum();
    if (peek().t === 'op' && CMP.has(peek().s)) {
      const op = take().s as '<' | '<=' | '>' | '>=' | '==' | '!=';
      const at2 = peek().at;
      return { k: 'cmp', op, a: num(left, at), b: num(sum(), at2) };
    }
    return left;
  };
  const sum = (): RuleNode => {
    const at = peek().at;
    let left = prod();
    while (is('op', '+') || is('op', '-')) {
      const op = take().s as '+' | '-';
      const at2 = peek().at;
      left = { k: 'arith', op, a: num(left, at), b: num(prod(), at2) };
    }
    return left;
  };
  const prod = (): RuleNode => {
    const at = peek().at;
    let left = unary();
    while (is('op', '*') || is('op', '/')) {
      const op = take().s as '*' | '/';
      const at2 = peek().at;
      left = { k: 'arith', op, a: num(left, at), b: num(unary(), at2) };
    }
    return left;
  };
  const unary = (): RuleNode => {
    if (is('op', '-')) {
      take();
      const at = peek().at;
      return { k: 'arith', op: '-', a: { k: 'num', v: 0 }, b: num(unary(), at) };
    }
    return atom();
  };
  const atom = (): RuleNode => {
    const tok = take();
    if (tok.t === 'num') return { k: 'num', v: Number(tok.s) };
    if (tok.t === 'id' && (RULE_VARIABLES as readonly string[]).includes(tok.s))
      return { k: 'var', name: tok.s as RuleVariable };
    if (tok.t === 'op' && tok.s === '(') {
      const e = or();
      const close = take();
      if (close.s !== ')') throw new RuleError(`expected ')', got ${describe(close)}`, close.at);
      return e;
    }
    throw new RuleError(
      `unexpected ${describe(tok)}; expected a number, one of ${RULE_VARIABLES.join(', ')} or '('`,
      tok.at,
    );
  };

  const tree = or();
  if (i < toks.length) throw new RuleError(`unexpected ${describe(peek())} after a complete rule`, peek().at);
  return bool(tree, 1);
}

function describe(t: Token): string {
  return t.t === 'end' ? 'end of rule' : `'${t.s}'`;
}

export type RuleValues = Partial<Record<RuleVariable, number | null>>;

/** Evaluates a parsed rule the way spark/jobs/stream.py does (the reference for its tests). */
export function evaluateRule(n: RuleNode, env: RuleValues): boolean {
  return Boolean(evalNode(n, env));
}

function evalNode(n: RuleNode, env: RuleValues): number | boolean | null {
  switch (n.k) {
    case 'num':
      return n.v;
    case 'var':
      return env[n.name] ?? null;
    case 'arith': {
      const a = evalNode(n.a, env) as number | null;
      const b = evalNode(n.b, env) as number | null;
      if (a === null || b === null) return null;
      switch (n.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return b === 0 ? null : a / b;
      }
      break;
    }
    case 'cmp': {
      const a = evalNode(n.a, env) as number | null;
      const b = evalNode(n.b, env) as number | null;
      if (a === null || b === null) return false;
      switch (n.op) {
        case '<':
          return a < b;
        case '<=':
          return a <= b;
        case '>':
          return a > b;
        case '>=':
          return a >= b;
        case '==':
          return a === b;
        case '!=':
          return a !== b;
      }
      break;
    }
    case 'not':
      return !evalNode(n.a, env);
    case 'and':
      return Boolean(evalNode(n.a, env)) && Boolean(evalNode(n.b, env));
    case 'or':
      return Boolean(evalNode(n.a, env)) || Boolean(evalNode(n.b, env));
  }
  return null;
}
