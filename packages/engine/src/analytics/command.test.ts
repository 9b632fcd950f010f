import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../storage/duckdb-store.ts';
import type { SinkRecord } from '../runtime/types.ts';
import { parseTime, runAnalyze } from './command.ts';
import { esc } from './report.ts';
import { reading } from './testing.ts';

const T0 = Date.UTC(2024, 0, 1);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-analyze-'));
  const store = await openEmbeddedStore(join(dir, 'retimuad.duckdb'), { retention_hours: 0 });
  const recs: SinkRecord[] = [];
  for (let i = 0; i < 3600; i++) {
    const r = reading(T0 + i * 1000, 'P-101', 'flow', i === 1234 ? 500 : 40 + Math.sin(i / 50));
    if (r.type === 'event' && r.event.kind === 'reading') r.event.unit = '<m3/h & "x">';
    recs.push(r, reading(T0 + i * 1000, 'P-101', 'speed', 70 + Math.cos(i / 50)));
  }
  await store.write(recs);
  await store.close();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('retimuad analyze', () => {
  it('writes a self-contained, escaped HTML report and the findings as batch anomalies, once', async () => {
    const s = await runAnalyze({ dataDir: dir, report: 'html', engine: 'duckdb', write: true });
    expect(s.out).toBe(join(dir, 'analysis.html'));
    expect(s.written).toBe(s.findings.length);
    expect(
      s.findings.some(
        (a) => a.detectorType === 'histogram_outlier' && a.metric === 'flow' && a.time === T0 + 1_234_000,
      ),
    ).toBe(true);
    const html = await readFile(s.out, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('&lt;m3/h &amp; &quot;x&quot;&gt;');
    expect(html).not.toContain('<m3/h');
    // No scripts and no external assets.
    expect(html).not.toMatch(/<script|<link|src=|href=/i);

    const again = await runAnalyze({ dataDir: dir, report: 'json', engine: 'duckdb', write: true });
    expect(again.written).toBe(0);
    const json = JSON.parse(await readFile(join(dir, 'analysis.json'), 'utf8')) as {
      stats: unknown[];
      findings: unknown[];
    };
    expect(json.stats).toHaveLength(2);
    expect(json.findings).toHaveLength(s.findings.length);

    const store = await openEmbeddedStore(join(dir, 'retimuad.duckdb'), { retention_hours: 0 });
    try {
      const batch = (await store.anomalies({ limit: 1000 })).filter((a) => a.modality === 'batch');
      expect(batch).toHaveLength(s.findings.length);
    } finally {
      await store.close();
    }
  });

  it('honours --from/--to and explains bad options', async () => {
    const s = await runAnalyze({
      dataDir: dir,
      report: 'json',
      engine: 'duckdb',
      write: false,
      from: new Date(T0).toISOString(),
      to: String(T0 + 599_999),
      out: join(dir, 'x.json'),
    });
    expect(s.result.stats[0]?.count).toBe(600);
    expect(s.written).toBe(0);
    expect(() => parseTime('yesterday', '--from')).toThrow(/--from: cannot read "yesterday"/);
    await expect(runAnalyze({ report: 'html', engine: 'duckdb', write: false })).rejects.toMatchObject({
      code: 'E_ANALYZE_OPTIONS',
    });
    await expect(runAnalyze({ dataDir: dir, report: 'html', engine: 'spark', write: false })).rejects.toThrow(
      /--archive/,
    );
    expect(esc(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });
});
