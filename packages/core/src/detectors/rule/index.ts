/**
 * rule: a condition over the value and the event's fields, written in a small safe expression
 * language (./expr.ts), optionally required to hold for `duration_secs`. One finding when it has
 * held long enough (not one per event), an `info` one when it stops holding.
 *
 * The expression is checked when params are resolved (a TypeBox format, so a bad rule fails config
 * loading) and compiled once per distinct text; `init` reports the column and what was expected.
 *
 * Score: 0 while false; 0.25–0.5 while true but younger than the duration; 1 once it has held.
 *
 * @example
 * const p = resolveParams(rule, { expr: 'flow_m3h > 1 and pump_state == "off"', duration_secs: 30 });
 * // finding: 'rule flow_m3h > 1 and pump_state == "off" true for 30 s (flow_m3h=3.2, pump_state=off)'
 */
import { FormatRegistry, Type, type Static } from '@sinclair/typebox';
import type { Scalar } from '../../schema/events.ts';
import { fmt, type DetectorDef, type FindingSink, type Observation, type StepLabels } from '../contract.ts';
import { ParamError } from '../params.ts';
import { compileRule, MAX_EXPR_LENGTH, RuleSyntaxError, type CompiledRule } from './expr.ts';

export { compileRule, RuleSyntaxError, type CompiledRule } from './expr.ts';

export const RULE_FORMAT = 'retimu_rule';

/** Compiled rules by source text, so each distinct rule is parsed once however many keys use it. */
const compiled = new Map<string, CompiledRule>();
const CACHE_LIMIT = 10_000;

/** Returns the compiled rule for `expr`, compiling it on first use; throws RuleSyntaxError. */
export function ruleFor(expr: string): CompiledRule {
  let c = compiled.get(expr);
  if (c === undefined) {
    c = compileRule(expr);
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(expr, c);
  }
  return c;
}

// Lets resolveParams (TypeBox Value.Check) reject a rule that does not parse. Idempotent.
if (!FormatRegistry.Has(RULE_FORMAT))
  FormatRegistry.Set(RULE_FORMAT, (s) => {
    try {
      ruleFor(s);
      return true;
    } catch {
      return false;
    }
  });

export const RuleParams = Type.Object(
  {
    expr: Type.String({
      minLength: 1,
      maxLength: MAX_EXPR_LENGTH,
      format: RULE_FORMAT,
      description:
        'Condition, e.g. `flow_m3h > 1 and pump_state == "off"`: numbers, "strings", true/false, names (value or a field), == != < <= > >=, + - * /, and/or/not, ( ).',
    }),
    duration_secs: Type.Number({
      minimum: 0,
      default: 0,
      description: 'How long (event time, seconds) the condition must hold before a finding; 0 = at once.',
    }),
    severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], {
      default: 'warning',
      description: 'Severity of the finding.',
    }),
    message: Type.Optional(
      Type.String({ maxLength: 500, description: 'Text used in reasons instead of "rule <expr>".' }),
    ),
  },
  { additionalProperties: false },
);
export type RuleParams = Static<typeof RuleParams>;

export const RuleState = Type.Object(
  {
    active: Type.Boolean({ description: 'The condition held at the last event.' }),
    since: Type.Number({ description: 'When it started holding (event time, ms).' }),
    alerted: Type.Boolean({ description: 'The finding for this episode was raised.' }),
  },
  { additionalProperties: false },
);
export type RuleState = Static<typeof RuleState>;

/** Compiles, turning a syntax error into a ParamError naming /expr and the column. */
export function checkRule(p: RuleParams): CompiledRule {
  try {
    return ruleFor(p.expr);
  } catch (e) {
    if (e instanceof RuleSyntaxError) throw new ParamError('rule', [{ path: '/expr', message: e.message }]);
    throw e;
  }
}

const title = (p: RuleParams): string => p.message ?? `rule ${p.expr}`;

function valuesText(c: CompiledRule, x: Observation): { text: string; detail: Record<string, Scalar> } {
  const parts: string[] = [];
  const detail: Record<string, Scalar> = {};
  for (const n of c.names) {
    const v = n === 'value' ? x.value : Object.hasOwn(x.fields, n) ? x.fields[n] : undefined;
    if (v === undefined) parts.push(`${n} missing`);
    else {
      detail[n] = v;
      parts.push(`${n}=${typeof v === 'number' ? fmt(v) : String(v)}`);
    }
  }
  return { text: parts.length > 0 ? ` (${parts.join(', ')})` : '', detail };
}

function raise(p: RuleParams, held: number, out: FindingSink, c: CompiledRule, x: Observation | null): void {
  const vals = x ? valuesText(c, x) : { text: '', detail: {} };
  const dur = p.duration_secs > 0 ? ` for ${fmt(held / 1000)} s` : '';
  out.finding({
    severity: p.severity,
    reason: `${title(p)} true${dur}${vals.text}`,
    detail: { ...vals.detail, held_secs: held / 1000 },
  });
}

function scoreOf(p: RuleParams, s: RuleState, held: number): number {
  if (!s.active) return 0;
  if (s.alerted) return 1;
  return 0.25 + 0.25 * (held / (p.duration_secs * 1000));
}

export const rule: DetectorDef<typeof RuleParams, RuleState, Observation> = {
  type: 'rule',
  summary: 'A condition over the value and event fields (safe expression language), optionally held for a duration.',
  params: RuleParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: flow_without_pump
  type: rule
  select: { metric: flow_m3h }
  params:
    expr: 'value > 1 and pump_state == "off"'
    duration_secs: 30
    severity: critical
`,
  init(p) {
    checkRule(p);
    return { active: false, since: 0, alerted: false };
  },
  step(p, s, x, out, _labels: StepLabels) {
    const c = ruleFor(p.expr);
    if (c.test(x.value, x.fields)) {
      if (!s.active) {
        s.active = true;
        s.since = x.time;
      }
      const held = Math.max(0, x.time - s.since);
      if (!s.alerted && held >= p.duration_secs * 1000) {
        s.alerted = true;
        raise(p, held, out, c, x);
      }
      return scoreOf(p, s, held);
    }
    if (s.alerted) {
      const held = Math.max(0, x.time - s.since);
      out.finding({
        severity: 'info',
        reason: `${title(p)} no longer true after ${fmt(held / 1000)} s`,
        detail: { held_secs: held / 1000 },
      });
    }
    s.active = false;
    s.alerted = false;
    s.since = 0;
    return 0;
  },
  tick(p, s, now, out) {
    if (!s.active) return 0;
    const held = Math.max(0, now - s.since);
    if (!s.alerted && held >= p.duration_secs * 1000) {
      s.alerted = true;
      // No event at hand: the condition is assumed to still hold, and the reason shows no values.
      raise(p, held, out, ruleFor(p.expr), null);
    }
    return scoreOf(p, s, held);
  },
};
