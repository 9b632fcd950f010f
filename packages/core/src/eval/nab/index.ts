/**
 * NAB (Numenta Anomaly Benchmark) scoring, pure: windows and probation per file, the scaled
 * sigmoid, application profiles, per-file raw scores, normalisation, and the exact threshold sweep.
 * Reading the corpus from disk is the engine's job (packages/engine/src/eval/).
 *
 * @example
 * const plan = planNabFile(timestampsMs, windowsMs);
 * const r = scoreNabCorpus([{ name: 'a/b.csv', plan, scores }], NAB_V11_PROFILES);
 */
export { NabError, type NabErrorCode } from './errors.ts';
export { scaledSigmoid, MAX_TP_SIGMOID } from './sigmoid.ts';
export {
  NAB_PROFILE_NAMES,
  NAB_V11_PROFILES,
  parseNabProfiles,
  type NabProfile,
  type NabProfileName,
  type NabProfiles,
} from './profiles.ts';
export { planNabFile, nabProbation, NAB_PROBATION_PERCENT, type NabFilePlan, type NabWindowPlan, type NabPlanOptions } from './plan.ts';
export { scoreNabFile, checkNabScores, type NabFileScore } from './score-file.ts';
export { nabNullScore, nabPerfectScore, normaliseNabScore } from './normalise.ts';
export { createNabSweep, sweepNabThreshold, type NabSweep, type NabSweepFile, type NabSweepResult } from './sweep.ts';
export {
  scoreNabCorpus,
  scoreNabCorpusAt,
  type NabCorpusFile,
  type NabCorpusScore,
  type NabFileResult,
  type NabProfileResult,
} from './corpus.ts';
