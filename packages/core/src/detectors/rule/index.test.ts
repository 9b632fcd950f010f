import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams, ParamError } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { checkRule, rule, type RuleParams, RuleState } from './index.ts';

describeConformance(rule, {
  stateSchema: RuleState,
  params: { expr: 'flow_m3h > 1 and pump_state == "off"', duration_secs: 5 },
});
describeConformance(rule, {
  stateSchema: RuleState,
  numRuns: 50,
  name: 'conformance: rule (random params)',
  params: { expr: 'value > 0' },
  randomParams: fc.record({
    expr: fc.constantFrom(
      'value > 0',
      'not (valve == "open") or level >= 3',
      'value / level > 2',
      'pump_state != "on" and -value < 1',
      'true',
    ),
    duration_secs: fc.constantFrom(0, 1, 30),
    severity: fc.constantFrom('info', 'warning', 'critical'),
  }),
});

const t0 = 1_700_000_000_000;
const ev = (secs: number, value: number, fields: Record<string, string | number | boolean> = {}): Observation => ({
  time: t0 + secs * 1000,
  value,
  fields,
});

function runAll(p: RuleParams, xs: readonly Observation[]) {
  const s = rule.init(p);
  const out = collectFindings();
  const perEvent = xs.map((x) => {
    out.clear();
    const score = rule.step(p, s, x, out, DEFAULT_LABELS);
    return { score, findings: out.findings.map((f) => `${f.severity}: ${f.reason}`) };
  });
  return { perEvent, state: s };
}

describe('rule behaviour', () => {
  it('raises once when the condition has held for the duration, info when it stops', () => {
    const p = resolveParams(rule, { expr: 'value > 1 and pump_state == "off"', duration_secs: 30 });
    const off = { pump_state: 'off' };
    const { perEvent } = runAll(p, [
      ev(0, 3.2, off),
      ev(10, 3.2, off),
      ev(30, 3.2, off),
      ev(40, 3.1, off),
      ev(50, 3, { pump_state: 'on' }),
    ]);
    expect(perEvent.map((e) => e.score)).toEqual([0.25, 0.25 + 0.25 / 3, 1, 1, 0]);
    expect(perEvent.flatMap((e) => e.findings)).toEqual([
      'warning: rule value > 1 and pump_state == "off" true for 30 s (value=3.2, pump_state=off)',
      'info: rule value > 1 and pump_state == "off" no longer true after 50 s',
    ]);
  });

  it('duration 0 raises at once; missing fields are shown as missing; message replaces the rule text', () => {
    const p = resolveParams(rule, { expr: 'value > 1 or door == "open"', message: 'flow or door' });
    const { perEvent } = runAll(p, [ev(0, 5)]);
    expect(perEvent[0]!.findings).toEqual(['warning: flow or door true (value=5, door missing)']);
  });

  it('tick raises the finding when the duration passes with no event', () => {
    const p = resolveParams(rule, { expr: 'value > 1', duration_secs: 60 });
    const s = rule.init(p);
    const out = collectFindings();
    rule.step(p, s, ev(0, 2), out, DEFAULT_LABELS);
    expect(rule.tick!(p, s, t0 + 59_000, out, DEFAULT_LABELS)).toBeLessThan(0.5);
    expect(rule.tick!(p, s, t0 + 61_000, out, DEFAULT_LABELS)).toBe(1);
    expect(out.findings.map((f) => f.reason)).toEqual(['rule value > 1 true for 61 s']);
  });

  it('a rule that does not parse fails param resolution, and init names the column', () => {
    expect(() => resolveParams(rule, { expr: 'flow_m3h > and' })).toThrow(ParamError);
    expect(() => checkRule({ expr: 'flow_m3h > and', duration_secs: 0, severity: 'warning' })).toThrow(
      /rule: \/expr column 12: expected a value \(number, string, name or "\("\), got "and"/,
    );
  });
});
