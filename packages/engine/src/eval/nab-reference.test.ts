/**
 * Reproduces NAB's published numbers from the stored detector outputs in the corpus's results/.
 * Reads the corpus from RETIMUAD_NAB_DIR, default <repo>/../shared/datasets/nab.
 *
 * Tolerance: our scorer reproduces NAB's raw and normalised scores to floating-point precision
 * (checked to 1e-6), except where our exact sweep finds a better threshold than NAB's local-search
 * optimiser: numenta / reward_low_FP_rate, 63.21 by exact sweep against NAB's 63.12. There we check
 * both that the sweep beats NAB's figure and that scoring at NAB's own threshold gives NAB's figure.
 *
 * Note: config/thresholds.json holds stale raw scores for windowedGaussian (-44.75 …, an older NAB
 * release) that contradict final_results.json and the *_scores.csv tables; the latter two agree
 * with each other and are what we check.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  NAB_PROFILE_NAMES,
  createNabSweep,
  scoreNabCorpus,
  scoreNabCorpusAt,
  type NabCorpusFile,
  type NabProfileName,
} from '../../../core/src/eval/nab/index.ts';
import { defaultNabDir, loadNabCorpus, parseNabCsv, readNabDetectorScores, type NabCorpus } from './nab-corpus.ts';

type Published = Record<string, Record<NabProfileName, number>>;
type Thresholds = Record<string, Record<NabProfileName, { score: number; threshold: number }>>;

const dataDir = defaultNabDir();
let corpus: NabCorpus;
let finalResults: Published;
let thresholds: Thresholds;
const detectorFiles = new Map<string, NabCorpusFile[]>();

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

beforeAll(async () => {
  corpus = await loadNabCorpus(dataDir);
  finalResults = await readJson<Published>(join(dataDir, 'results', 'final_results.json'));
  thresholds = await readJson<Thresholds>(join(dataDir, 'config', 'thresholds.json'));
  for (const det of ['numenta', 'windowedGaussian']) {
    const scores = await readNabDetectorScores(corpus, det);
    detectorFiles.set(
      det,
      corpus.files.map((f) => ({ name: f.name, plan: f.plan, scores: scores.get(f.name)! })),
    );
  }
  detectorFiles.set(
    'null',
    corpus.files.map((f) => ({ name: f.name, plan: f.plan, scores: new Float64Array(f.plan.rows) })),
  );
});

/** Per-file rows of NAB's <det>_<profile>_scores.csv, and its Totals row. */
async function scoresTable(det: string, profile: NabProfileName) {
  const path = join(dataDir, 'results', det, `${det}_${profile}_scores.csv`);
  const csv = parseNabCsv(await readFile(path, 'utf8'), path);
  const rows = csv.rows.map(([, , file, threshold, score, tp, tn, fp, fn]) => ({
    file: file!,
    threshold: Number(threshold),
    score: Number(score),
    counts: { tp: Number(tp), tn: Number(tn), fp: Number(fp), fn: Number(fn) },
  }));
  const totals = rows.find((r) => r.file === '')!;
  return { files: rows.filter((r) => r.file !== ''), totalRaw: totals.score };
}

describe('NAB corpus as loaded', () => {
  it('has 58 files, 365,558 rows and 116 windows, all scored', () => {
    expect(corpus.files).toHaveLength(58);
    expect(corpus.files.reduce((s, f) => s + f.plan.rows, 0)).toBe(365_558);
    const windows = corpus.files.flatMap((f) => f.plan.windows);
    expect(windows).toHaveLength(116);
    expect(windows.every((w) => w.scored)).toBe(true);
  });
});

describe('numenta (HTM) published results', () => {
  it('exact sweep reproduces standard 70.10 and reward_low_FN_rate 74.32', () => {
    const r = scoreNabCorpus(detectorFiles.get('numenta')!, corpus.profiles);
    expect(r.perProfile.standard.score).toBeCloseTo(finalResults['numenta']!.standard, 6);
    expect(r.perProfile.reward_low_FN_rate.score).toBeCloseTo(finalResults['numenta']!.reward_low_FN_rate, 6);
  });

  it('exact sweep beats NAB on reward_low_FP_rate (63.21 vs 63.12); NAB\'s threshold gives NAB\'s 63.12', () => {
    const files = detectorFiles.get('numenta')!;
    const r = scoreNabCorpus(files, corpus.profiles).perProfile.reward_low_FP_rate;
    expect(r.score).toBeGreaterThan(finalResults['numenta']!.reward_low_FP_rate + 0.05);
    expect(Math.abs(r.score - 63.21)).toBeLessThan(0.005);
    const nab = thresholds['numenta']!.reward_low_FP_rate;
    const at = scoreNabCorpusAt(files, corpus.profiles.reward_low_FP_rate, nab.threshold);
    expect(at.raw).toBeCloseTo(nab.score, 6);
    expect(at.score).toBeCloseTo(finalResults['numenta']!.reward_low_FP_rate, 6);
  });

  it('at the published thresholds, raw scores match config/thresholds.json', () => {
    const files = detectorFiles.get('numenta')!;
    for (const profile of NAB_PROFILE_NAMES) {
      const { threshold, score } = thresholds['numenta']![profile];
      expect(scoreNabCorpusAt(files, corpus.profiles[profile], threshold).raw).toBeCloseTo(score, 6);
    }
  });
});

describe('windowedGaussian published results', () => {
  it('exact sweep reproduces 39.65 / 20.87 / 47.41', () => {
    const r = scoreNabCorpus(detectorFiles.get('windowedGaussian')!, corpus.profiles);
    for (const profile of NAB_PROFILE_NAMES) {
      expect(r.perProfile[profile].score).toBeCloseTo(finalResults['windowedGaussian']![profile], 6);
    }
  });
});

describe('per-file scores and counts match the published *_scores.csv tables', () => {
  for (const det of ['numenta', 'windowedGaussian']) {
    it(`${det}, every file and profile, at the published threshold`, async () => {
      const files = detectorFiles.get(det)!;
      for (const profile of NAB_PROFILE_NAMES) {
        const table = await scoresTable(det, profile);
        expect(table.files).toHaveLength(58);
        // The tables print thresholds rounded to 12 digits; use the exact one where NAB stored it.
        const threshold = det === 'numenta' ? thresholds[det]![profile].threshold : table.files[0]!.threshold;
        const ours = new Map(scoreNabCorpusAt(files, corpus.profiles[profile], threshold).perFile.map((f) => [f.name, f]));
        let total = 0;
        for (const row of table.files) {
          const mine = ours.get(row.file)!;
          expect(mine.score, `${det} ${profile} ${row.file}`).toBeCloseTo(row.score, 9);
          expect({ tp: mine.tp, tn: mine.tn, fp: mine.fp, fn: mine.fn }, `${det} ${profile} ${row.file}`).toEqual(row.counts);
          total += mine.score;
        }
        expect(total).toBeCloseTo(table.totalRaw, 8);
      }
    });
  }
});

describe('null detector', () => {
  it('scores 0 on every profile, raw -116 / -116 / -232 as published', () => {
    const files = detectorFiles.get('null')!;
    const r = scoreNabCorpus(files, corpus.profiles);
    for (const profile of NAB_PROFILE_NAMES) {
      expect(r.perProfile[profile].score).toBe(0);
      expect(r.perProfile[profile].raw).toBe(thresholds['null']![profile].score);
      expect(r.perProfile[profile].score).toBe(finalResults['null']![profile]);
    }
  });
});

describe('sweep reuse', () => {
  it('one sorted sweep serves all profiles and matches fresh sweeps', () => {
    const files = detectorFiles.get('numenta')!;
    const sweep = createNabSweep(files);
    const shared = scoreNabCorpus(files, corpus.profiles, sweep);
    const fresh = scoreNabCorpus(files, corpus.profiles);
    expect(shared.perProfile).toEqual(fresh.perProfile);
  });
});
