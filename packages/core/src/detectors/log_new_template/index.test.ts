import { describe, expect, it } from 'vitest';
import { collectFindings, describeConformance } from '../../testing/conformance.ts';
import { resolveParams } from '../params.ts';
import { logObservations } from '../../logs/testing.ts';
import { logNewTemplate } from './index.ts';

describeConformance(logNewTemplate, { params: { min_lines: 5 }, inputs: logObservations, numRuns: 60, seed: 1 });

describe('log_new_template', () => {
  it('reports a template first seen after the warm-up, once', () => {
    const p = resolveParams(logNewTemplate, { min_lines: 20 });
    const s = logNewTemplate.init(p);
    const out = collectFindings();
    const labels = { key: 'plant/scada', metric: 'log events', unit: '' };
    const scores: Array<number | null> = [];
    for (let i = 0; i < 40; i++)
      scores.push(
        logNewTemplate.step(
          p,
          s,
          { time: i, value: 1, fields: { message: `login for user${i % 3} from 10.0.0.${i} ok` } },
          out,
          labels,
        ),
      );
    expect(out.findings).toEqual([]);
    expect(scores.slice(0, 20).every((x) => x === null)).toBe(true);
    const a = logNewTemplate.step(
      p,
      s,
      { time: 50, value: 1, fields: { message: 'firmware upload to PLC-3 from 10.9.9.9' } },
      out,
      labels,
    );
    const b = logNewTemplate.step(
      p,
      s,
      { time: 51, value: 1, fields: { message: 'firmware upload to PLC-4 from 10.9.9.8' } },
      out,
      labels,
    );
    expect([a, b]).toEqual([1, 0]);
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]!.reason).toBe(
      'plant/scada: new log template #2 after 40 lines: "firmware upload to PLC-3 from <IP>"',
    );
  });
});
