/**
 * Scores a whole corpus the NAB way: per profile, the threshold that maximises the raw corpus
 * score (exact sweep), the raw and normalised scores at it, and per-file results.
 *
 * @example
 * const r = scoreNabCorpus(files, NAB_V11_PROFILES); // files: { name, plan, scores }[]
 * r.perProfile.standard.score;      // normalised, e.g. 70.10 for NAB's numenta results
 * r.perProfile.standard.threshold;  // the optimised threshold
 */
import { nabNullScore, nabPerfectScore, normaliseNabScore } from './normalise.ts';
import { scoreNabFile, type NabFileScore } from './score-file.ts';
import { createNabSweep, type NabSweep } from './sweep.ts';
import type { NabFilePlan } from './plan.ts';
import { NAB_PROFILE_NAMES, type NabProfile, type NabProfileName, type NabProfiles } from './profiles.ts';

export interface NabCorpusFile {
  /** NAB key, "category/file.csv". */
  readonly name: string;
  readonly plan: NabFilePlan;
  readonly scores: ArrayLike<number>;
}

export interface NabProfileResult {
  /** Normalised score: 0 = null detector, 100 = perfect. */
  score: number;
  /** Detections are rows with anomaly score >= threshold; POSITIVE_INFINITY = detect nothing. */
  threshold: number;
  /** Raw corpus score at the threshold. */
  raw: number;
  nullRaw: number;
  perfectRaw: number;
  /** Scored rows detected at the threshold. */
  detections: number;
}

export interface NabFileResult {
  readonly name: string;
  readonly perProfile: Record<NabProfileName, NabFileScore>;
}

export interface NabCorpusScore {
  perProfile: Record<NabProfileName, NabProfileResult>;
  perFile: NabFileResult[];
}

/** Normalised and raw scores at a fixed threshold (e.g. a published one), with per-file results. */
export function scoreNabCorpusAt(
  files: readonly NabCorpusFile[],
  profile: NabProfile,
  threshold: number,
): { score: number; raw: number; perFile: Array<{ name: string } & NabFileScore> } {
  const perFile = files.map((f) => ({ name: f.name, ...scoreNabFile(f.plan, f.scores, threshold, profile) }));
  const raw = perFile.reduce((s, f) => s + f.score, 0);
  const plans = files.map((f) => f.plan);
  return { score: normaliseNabScore(raw, nabNullScore(plans, profile), nabPerfectScore(plans, profile)), raw, perFile };
}

/** Optimises the threshold of every profile by exact sweep and scores the corpus at it. */
export function scoreNabCorpus(files: readonly NabCorpusFile[], profiles: NabProfiles, sweep?: NabSweep): NabCorpusScore {
  const sw = sweep ?? createNabSweep(files);
  const plans = files.map((f) => f.plan);
  const perProfile = {} as Record<NabProfileName, NabProfileResult>;
  const perFileScores = files.map(() => ({}) as Record<NabProfileName, NabFileScore>);
  for (const name of NAB_PROFILE_NAMES) {
    const profile = profiles[name];
    const best = sw.optimise(profile);
    const nullRaw = nabNullScore(plans, profile);
    const perfectRaw = nabPerfectScore(plans, profile);
    files.forEach((f, k) => {
      perFileScores[k]![name] = scoreNabFile(f.plan, f.scores, best.threshold, profile);
    });
    perProfile[name] = {
      score: normaliseNabScore(best.score, nullRaw, perfectRaw),
      threshold: best.threshold,
      raw: best.score,
      nullRaw,
      perfectRaw,
      detections: best.detections,
    };
  }
  return { perProfile, perFile: files.map((f, k) => ({ name: f.name, perProfile: perFileScores[k]! })) };
}
