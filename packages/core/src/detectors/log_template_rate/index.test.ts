import { describe, expect, it } from 'vitest';
import { collectFindings, describeConformance } from '../../testing/conformance.ts';
import { resolveParams } from '../params.ts';
import { logObservations } from '../../logs/testing.ts';
import { logTemplateRate } from './index.ts';

describeConformance(logTemplateRate, {
  params: { bucket_secs: 10, warmup_buckets: 2, min_spike_count: 2, min_dip_expected: 1 },
  inputs: logObservations,
  numRuns: 60,
  seed: 2,
});

const labels = { key: 'plant/scada', metric: 'log events', unit: '' };

describe('log_template_rate', () => {
  const p = resolveParams(logTemplateRate, { bucket_secs: 60, warmup_buckets: 5 });
  /** 30 minutes of 6 logins and 10 scans a minute. */
  function baseline() {
    const s = logTemplateRate.init(p);
    const out = collectFindings();
    for (let min = 0; min < 30; min++) {
      for (let k = 0; k < 6; k++)
        logTemplateRate.step(
          p,
          s,
          {
            time: min * 60_000 + k * 9000,
            value: 1,
            fields: { message: `Accepted password for u${k} from 10.0.0.${k} port ${4000 + k} ssh2`, level: 'info' },
          },
          out,
          labels,
        );
      for (let k = 0; k < 10; k++)
        logTemplateRate.step(
          p,
          s,
          {
            time: min * 60_000 + k * 5000 + 1,
            value: 1,
            fields: { message: `PLC-1 scan cycle ${k} ms`, level: 'info' },
          },
          out,
          labels,
        );
    }
    return { s, out };
  }

  it('is quiet on a steady stream, then reports a spike as soon as it happens', () => {
    const { s, out } = baseline();
    expect(out.findings).toEqual([]);
    for (let k = 0; k < 40; k++)
      logTemplateRate.step(
        p,
        s,
        {
          time: 30 * 60_000 + k * 1000,
          value: 1,
          fields: { message: `Accepted password for x from 10.1.1.${k} port 5${k} ssh2`, level: 'info' },
        },
        out,
        labels,
      );
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]!.reason).toMatch(
      /^plant\/scada: template #1 "Accepted password for <\*> from <IP> port <NUM> ssh2" \d+ lines in 60 s, expected 6$/,
    );
  });

  it('reports a dip through tick when a frequent template falls silent, and bursts of error lines', () => {
    const { s, out } = baseline();
    const score = logTemplateRate.tick!(p, s, 32 * 60_000, out, labels);
    // 6 a minute falling to 0 is within Poisson noise at dip_z 3 (√6 ≈ 2.4 deviations); 10 to 0 is not.
    expect(out.findings.map((f) => f.reason)).toEqual([
      'plant/scada: template #2 "PLC-1 scan cycle <NUM> ms" 0 lines in 60 s, expected 10',
    ]);
    expect(score).toBeGreaterThan(0.5);
    out.clear();
    for (let k = 0; k < 12; k++)
      logTemplateRate.step(
        p,
        s,
        { time: 32 * 60_000 + k * 100, value: 1, fields: { message: `db error ${k}`, level: 'error' } },
        out,
        labels,
      );
    // Error lines are a new series: judged only after its warm-up, so not yet.
    expect(out.findings).toEqual([]);
  });
});
