import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NabError } from '../../../core/src/eval/nab/index.ts';
import { defaultNabDir } from './nab-corpus.ts';
import { formatNabReport, runNabEval, type NabDetector } from './nab-runner.ts';

const dataDir = defaultNabDir();
const tmpDirs: string[] = [];
const freshDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'nab-runner-'));
  tmpDirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

/** Rolling z-score over the last `size` values, squashed into [0, 1]; sees one row at a time. */
function rollingZ(size = 100): NabDetector {
  const buf: number[] = [];
  let sum = 0;
  let sumSq = 0;
  return {
    next(_t, value) {
      let score = 0;
      if (buf.length >= 10) {
        const mean = sum / buf.length;
        const sd = Math.sqrt(Math.max(0, sumSq / buf.length - mean * mean));
        const z = sd > 0 ? Math.abs(value - mean) / sd : value === mean ? 0 : 10;
        score = 1 - Math.exp(-z / 3);
      }
      buf.push(value);
      sum += value;
      sumSq += value * value;
      if (buf.length > size) {
        const old = buf.shift()!;
        sum -= old;
        sumSq -= old * old;
      }
      return score;
    },
  };
}

const SUBSET = [
  'artificialNoAnomaly/art_daily_no_noise.csv',
  'artificialWithAnomaly/art_daily_jumpsup.csv',
  'realKnownCause/nyc_taxi.csv',
  'realTraffic/speed_t4013.csv',
];

describe('runNabEval', () => {
  it('scores a null detector 0 on every profile and writes NAB-format results', async () => {
    const outDir = await freshDir();
    const progress: Array<[number, number]> = [];
    const r = await runNabEval({
      dataDir,
      outDir,
      detectorName: 'nulldet',
      detect: () => ({ next: () => 0 }),
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(r.files).toBe(58);
    expect(r.rows).toBe(365_558);
    for (const p of Object.values(r.perProfile)) {
      expect(p.score).toBe(0);
      expect(p.threshold).toBe(Number.POSITIVE_INFINITY);
    }
    expect(progress).toHaveLength(58);
    expect(progress.at(-1)).toEqual([58, 58]);

    const csv = (await readFile(join(outDir, 'nulldet', 'realKnownCause', 'nulldet_nyc_taxi.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('timestamp,value,anomaly_score,label');
    expect(csv[1]).toBe('2014-07-01 00:00:00,10844,0,0');
    expect(csv).toHaveLength(10_320 + 1);
    const taxi = r.perFile.find((f) => f.name === 'realKnownCause/nyc_taxi.csv')!.perProfile.standard;
    expect(csv.filter((l) => l.endsWith(',1')).length).toBe(taxi.fn); // every window row is a missed row
    const table = (await readFile(join(outDir, 'nulldet', 'nulldet_standard_scores.csv'), 'utf8')).trim().split('\n');
    expect(table).toHaveLength(1 + 58 + 1);
    expect(table.at(-1)).toMatch(/^Totals,,,,-116,0,/);
    const summary = JSON.parse(await readFile(join(outDir, 'nulldet', 'nulldet_summary.json'), 'utf8')) as {
      perProfile: { standard: { score: number; threshold: number | null } };
    };
    expect(summary.perProfile.standard).toMatchObject({ score: 0, threshold: null });
  });

  it('feeds each file to a fresh detector, row by row, in file order', async () => {
    const seen = new Map<string, number[]>();
    const r = await runNabEval({
      dataDir,
      files: SUBSET,
      detect: (file) => {
        const times: number[] = [];
        seen.set(file, times);
        return { next: (t) => (times.push(t), 0.5) };
      },
    });
    expect([...seen.keys()]).toEqual([...SUBSET].sort());
    const taxi = seen.get('realKnownCause/nyc_taxi.csv')!;
    expect(taxi).toHaveLength(10_320);
    expect(taxi[0]).toBe(Date.UTC(2014, 6, 1, 0, 0, 0));
    expect(taxi[1]! - taxi[0]!).toBe(30 * 60_000);
    expect(r.rows).toBe([...seen.values()].reduce((s, t) => s + t.length, 0));
  });

  it('is deterministic: same detector, same scores, same files written', async () => {
    const [a, b] = [await freshDir(), await freshDir()];
    const r1 = await runNabEval({ dataDir, outDir: a, files: SUBSET, detect: () => rollingZ() });
    const r2 = await runNabEval({ dataDir, outDir: b, files: SUBSET, detect: () => rollingZ() });
    expect(r2).toEqual(r1);
    expect(Number.isFinite(r1.perProfile.standard.threshold)).toBe(true);
    const rel = 'retimuad/realKnownCause/retimuad_nyc_taxi.csv';
    expect(await readFile(join(b, rel), 'utf8')).toBe(await readFile(join(a, rel), 'utf8'));
    expect((await readdir(join(a, 'retimuad'))).sort()).toEqual((await readdir(join(b, 'retimuad'))).sort());
  });

  it('rejects a score outside [0, 1], naming the file and row', async () => {
    const err = await runNabEval({
      dataDir,
      files: ['realKnownCause/nyc_taxi.csv'],
      detect: () => {
        let i = 0;
        return { next: () => (i++ === 7 ? 1.5 : 0) };
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NabError);
    expect((err as NabError).code).toBe('E_NAB_SCORES');
    expect((err as NabError).message).toMatch(/nyc_taxi\.csv: row 7 .*returned 1\.5/);
  });

  it('formats a readable report with one line per profile', async () => {
    const r = await runNabEval({ dataDir, files: SUBSET, detect: () => rollingZ() });
    const text = formatNabReport(r, { perFile: true });
    expect(text).toContain(`over ${SUBSET.length} files`);
    const line = text.split('\n').find((l) => l.startsWith('standard '))!;
    expect(line).toContain(r.perProfile.standard.score.toFixed(2));
    expect(text).toContain('realKnownCause/nyc_taxi.csv');
  });
});
