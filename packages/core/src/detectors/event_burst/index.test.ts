import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { resolveParams } from '../params.ts';
import { eventBurst } from './index.ts';

describeConformance(eventBurst, { params: { window_secs: 10, max_events: 3 } });

const T0 = 1_700_000_000_000;

describe('event_burst', () => {
  it('raises one finding per burst and re-arms after it subsides', () => {
    const p = resolveParams(eventBurst, { window_secs: 60, max_events: 5 });
    const s = eventBurst.init(p);
    const f = collectFindings();
    for (let i = 0; i < 10; i++) eventBurst.step(p, s, { time: T0 + i * 5000, value: 1, fields: {} }, f, { ...DEFAULT_LABELS, metric: 'log events' });
    expect(f.findings).toHaveLength(1);
    expect(f.findings[0]?.reason).toBe('5 log events in 20 s (limit 5 in 60 s)');
    // quiet for 10 minutes, then another burst
    for (let i = 0; i < 6; i++) eventBurst.step(p, s, { time: T0 + 600_000 + i * 1000, value: 1, fields: {} }, f, DEFAULT_LABELS);
    expect(f.findings).toHaveLength(2);
  });

  it('agrees with a direct count over the window on random event times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (gaps, max) => {
        const p = resolveParams(eventBurst, { window_secs: 30, max_events: max });
        const s = eventBurst.init(p);
        const times: number[] = [];
        let t = T0;
        for (const g of gaps) {
          t += g;
          times.push(t);
          const score = eventBurst.step(p, s, { time: t, value: 1, fields: {} }, collectFindings(), DEFAULT_LABELS);
          const direct = times.filter((x) => x > t - 30_000).length;
          expect(score).toBeCloseTo(Math.min(1, direct / (2 * max)), 12);
        }
      }),
    );
  });
});
