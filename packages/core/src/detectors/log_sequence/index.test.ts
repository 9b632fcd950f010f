import { describe, expect, it } from 'vitest';
import { collectFindings, describeConformance } from '../../testing/conformance.ts';
import { resolveParams } from '../params.ts';
import { logObservations } from '../../logs/testing.ts';
import { logSequence } from './index.ts';

describeConformance(logSequence, {
  params: { min_lines: 5, min_support: 3, session_field: 'user.name', max_sessions: 3, max_transitions: 10 },
  inputs: logObservations,
  numRuns: 60,
  seed: 3,
});
describeConformance(logSequence, {
  name: 'conformance: log_sequence without sessions',
  params: { min_lines: 5, min_support: 3 },
  inputs: logObservations,
  numRuns: 30,
  seed: 4,
});

describe('log_sequence', () => {
  it('flags a session that skips its usual order, per session', () => {
    const p = resolveParams(logSequence, {
      session_field: 'user.name',
      min_lines: 100,
      min_support: 20,
      min_probability: 0.02,
    });
    const s = logSequence.init(p);
    const out = collectFindings();
    const labels = { key: 'plant/scada', metric: 'log events', unit: '' };
    let t = 0;
    const say = (user: string, message: string) =>
      logSequence.step(p, s, { time: t++, value: 1, fields: { message, 'user.name': user } }, out, labels);
    for (let i = 0; i < 100; i++) {
      const u = `op${i % 4}`;
      say(u, `HMI login for ${u} succeeded`);
      say(u, `${u} changed setpoint to ${i % 7}`);
      say(u, `user ${u} logged out`);
    }
    expect(out.findings).toEqual([]);
    say('mallory', 'HMI login for mallory failed: bad password');
    say('mallory', 'mallory changed setpoint to 9');
    expect(out.findings).toEqual([]); // a new template is not yet a known "from" with support
    say('op1', 'HMI login for op1 succeeded');
    say('op1', 'user op1 logged out');
    expect(out.findings.map((f) => f.reason)).toEqual([
      'plant/scada: unexpected log sequence for op1: #1 "HMI login for <*> succeeded" → #3 "user <*> logged out" (p 0.0049, seen 0 of 100)',
    ]);
  });
});
