/**
 * Test-only fast-check arbitraries for the log detectors (import from `*.test.ts` only): sequences
 * of log observations drawn from a few templates with varying values, levels and users.
 *
 * @example
 * describeConformance(logNewTemplate, { inputs: logObservations });
 */
import fc from 'fast-check';
import type { Observation } from '../detectors/contract.ts';

/** Log observations: a few templates with varying values, levels and users; times non-decreasing. */
export const logObservations: fc.Arbitrary<Observation[]> = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 900_000 })),
      t: fc.integer({ min: 0, max: 5 }),
      v: fc.constantFrom('bob', 'ann', '10.0.0.1', '42', 'P-101'),
      level: fc.constantFrom('info', 'warn', 'error'),
    }),
    { maxLength: 80 },
  )
  .map((xs) => {
    let time = 1_700_000_000_000;
    const tpl = [
      'login for X ok',
      'login for X failed',
      'valve X opened at 3 %',
      'session opened for X',
      'X',
      'write X := 1',
    ];
    return xs.map((x) => {
      time += x.gap;
      return { time, value: 1, fields: { message: tpl[x.t]!.replace('X', x.v), level: x.level, 'user.name': x.v } };
    });
  });
