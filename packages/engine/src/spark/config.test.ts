import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/load.ts';
import { parseSparkStreamConfig, toJobConfig } from './config.ts';

const example = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../examples/spark-stream.yaml');

function problems(text: string): string[] {
  try {
    parseSparkStreamConfig(text, 'bad.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('spark-stream config', () => {
  it('the example is valid and becomes the job JSON with topic roles resolved and defaults filled', async () => {
    const cfg = parseSparkStreamConfig(await readFile(example, 'utf8'), example);
    const job = toJobConfig(cfg);
    expect(job['kafka']).toMatchObject({
      brokers: '127.0.0.1:9092',
      topics: ['retimuad.readings'],
      anomalies_topic: 'retimuad.anomalies',
      starting_offsets: 'latest',
    });
    expect(job['window']).toEqual({ size_secs: 60, slide_secs: 60, watermark_secs: 30 });
    expect(job['checkpoint_dir']).toBe(join(dirname(dirname(example)), 'data/spark-stream'));
    const checks = job['checks'] as Array<Record<string, unknown>>;
    expect(checks.map((c) => `${String(c['id'])}:${String(c['type'])}`)).toEqual([
      'flow-high:threshold',
      'pressure-spike:threshold',
      'sensor-silent:count',
      'erratic:rule',
    ]);
    expect(checks[0]).toMatchObject({ assets: ['P-*'], metrics: ['flow_m3h'], on: 'mean', above: 60 });
    expect(checks[2]).toMatchObject({ assets: ['*'], metrics: ['*'], min: 30, severity: 'critical' });
    expect(checks[3]).toMatchObject({ expr: 'std > 0.2 and count >= 30', score: 0.8 });
  });

  it('names file, line, column and path of type errors, per check type', () => {
    const text = [
      'window:',
      '  size_secs: five',
      'checks:',
      '  - id: a',
      '    type: threshold',
      '    above: high',
      '  - id: b',
      '    type: count',
      '    mni: 3',
    ].join('\n');
    const p = problems(text);
    expect(p).toContain('bad.yaml:2:14 /window/size_secs: expected number, got "five"');
    const p2 = problems(text.replace('  size_secs: five', '  size_secs: 5'));
    expect(p2).toContain('bad.yaml:6:12 /checks/0/above: expected number, got "high"');
    expect(p2.filter((l) => l.includes('/checks/1'))).toEqual([
      'bad.yaml:9:10 /checks/1/mni: unknown option "mni"; known: id, select, severity, type, min, max',
    ]);
  });

  it('rejects an unknown check type, duplicate ids, empty and contradictory limits', () => {
    expect(problems('checks:\n  - { id: a, type: median }\n')[0]).toMatch(/^bad\.yaml:2:\d+ \/checks\/0\/type: /);
    const p = problems(
      [
        'checks:',
        '  - { id: a, type: threshold }',
        '  - { id: a, type: count, min: 5, max: 2 }',
        '  - { id: c, type: threshold, above: 1, below: 2 }',
      ].join('\n'),
    );
    expect(p).toEqual([
      'bad.yaml:2:5 /checks/0: a threshold check needs above, below or both',
      'bad.yaml:3:11 /checks/1/id: id "a" is already used by /checks/0',
      'bad.yaml:3:32 /checks/1/min: min (5) is greater than max (2)',
      'bad.yaml:4:48 /checks/2/below: below (2) is greater than above (1): nothing could pass',
    ]);
  });

  it('points at the offending character of a rule, plain or quoted', () => {
    expect(problems('checks:\n  - id: r\n    type: rule\n    expr: std > 5 and cnt > 3\n')).toEqual([
      "bad.yaml:4:23 /checks/0/expr: unexpected 'cnt'; expected a number, one of count, mean, std, min, max, sum or '(' (column 13 of the rule)",
    ]);
    expect(problems('checks:\n  - id: r\n    type: rule\n    expr: "mean + 2"\n')).toEqual([
      'bad.yaml:4:12 /checks/0/expr: expected a condition (a comparison such as std > 5), got a number (column 1 of the rule)',
    ]);
  });

  it('refuses a slide longer than the window and YAML syntax errors with their position', () => {
    expect(problems('window: { size_secs: 10, slide_secs: 20 }\n')).toEqual([
      'bad.yaml:1:38 /window/slide_secs: slide_secs (20) exceeds size_secs (10): readings between windows would be lost',
    ]);
    expect(problems('kafka: [\n')[0]).toMatch(/^bad\.yaml:\d+:\d+ \/: YAML syntax: /);
  });
});
