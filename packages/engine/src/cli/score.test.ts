import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScore, ScoreInputError } from './score.ts';
import { parseConfig } from '../config/load.ts';
import { componentSchemas } from '../runtime/registry.ts';

const config = parseConfig(
  'version: 1\nsources: [{ id: x, type: file, path: x.jsonl }]\ndetectors:\n  - id: z\n    type: rolling_zscore\n    params: { window_points: 50, min_points: 10, threshold_z: 4 }\n',
  '/tmp/score.yaml',
  componentSchemas(),
);

async function tmp(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'retimuad-score-'));
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('retimuad score', () => {
  it('scores a multivariate CSV with another separator, keys and a spike, one row out per row in', async () => {
    const rows = ['time;pump;flow;pressure'];
    for (let i = 0; i < 120; i++) {
      for (const pump of ['A', 'B']) {
        const spike = pump === 'B' && i === 100;
        rows.push(`2024-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z;${pump};${spike ? 90 : 10 + Math.sin(i) };${5 + Math.cos(i) * 0.5}`);
      }
    }
    const input = await tmp('in.csv', rows.join('\n') + '\n');
    const out = `${input}.out.csv`;
    const s = await runScore({ config, input, out, keyCols: ['pump'] });
    expect(s.rows).toBe(240);
    expect(s.columns).toEqual({ timestamp: 'time', keys: ['pump'], values: ['flow', 'pressure'] });
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(241);
    expect(lines[0]).toBe('time;pump;flow;pressure;anomaly_score;is_anomaly;reason');
    const spikeRow = lines.find((l) => l.includes(';B;90;'));
    expect(spikeRow).toBeDefined();
    const cells = spikeRow!.split(';');
    expect(Number(cells[4])).toBeGreaterThan(0.5);
    expect(cells[5]).toBe('1');
    expect(cells[6]).toMatch(/^flow: flow 90 is .*σ above/);
    // Every other scored row is unflagged: the spike is the only anomaly.
    expect(lines.filter((l) => l.split(';')[5] === '1')).toHaveLength(1);
    expect(s.flagged).toBe(1);
  });

  it('reports bad lines with their line number, keeps them as dead letters and still writes a row for each', async () => {
    const input = await tmp(
      'bad.csv',
      'timestamp,a,b\n2024-01-01T00:00:00Z,1,2\nnot-a-time,1,2\n2024-01-01T00:00:02Z,x,2\n2024-01-01T00:00:03Z,1\n2024-01-01T00:00:04Z,"unterminated,1\n2024-01-01T00:00:05Z,,3\n',
    );
    const out = `${input}.out.csv`;
    const warnings: string[] = [];
    const s = await runScore({ config, input, out, warn: (m) => warnings.push(m) });
    expect(s.rows).toBe(6);
    expect(s.rejected).toBe(4);
    expect(warnings[0]).toBe(`${input}:3: column "timestamp": cannot read "not-a-time" as a time`);
    expect(warnings[1]).toBe(`${input}:4: column "a": "x" is not a number`);
    expect(warnings[2]).toBe(`${input}:5: expected 3 fields, found 2`);
    expect(warnings[3]).toMatch(new RegExp(`${input}:6: a quoted field is not closed`));
    const outLines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(outLines).toHaveLength(7);
    const dl = (await readFile(s.deadLetterFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { where: string; reason: string });
    expect(dl.map((d) => d.where)).toEqual([`${input}:3`, `${input}:4`, `${input}:5`, `${input}:6`]);
  });

  it('reads JSON lines and names a missing column', async () => {
    const input = await tmp('in.jsonl', '{"ts": 1700000000, "v": 1}\n{"ts": 1700000001, "v": 2}\nnot json\n');
    const s = await runScore({ config, input, out: `${input}.out.jsonl` });
    expect(s.rows).toBe(3);
    expect(s.rejected).toBe(1);
    await expect(runScore({ config, input, out: `${input}.x`, valueCols: ['nope'] })).rejects.toThrow(ScoreInputError);
    await expect(runScore({ config, input, out: `${input}.x`, valueCols: ['nope'] })).rejects.toThrow(/column "nope" is not in the header \(ts, v\)/);
  });
});
