/**
 * The one explicit registry of detector types: config `type:` → definition.
 * No registration by import side effects; adding a detector means adding a line here.
 */
import type { DetectorDef } from './contract.ts';
import { createEnsemble } from './ensemble/index.ts';
import { patternNovelty } from './pattern_novelty/index.ts';
import { rangeRecord } from './range_record/index.ts';
import { seasonalError } from './seasonal_error/index.ts';
import { fuzzyArt } from './fuzzy_art/index.ts';
import { countRate } from './count_rate/index.ts';
import { emaBaseline } from './ema_baseline/index.ts';
import { eventBurst } from './event_burst/index.ts';
import { flatline } from './flatline/index.ts';
import { rollingZScore } from './rolling_zscore/index.ts';
import { rule } from './rule/index.ts';
import { smaBaseline } from './sma_baseline/index.ts';
import { thresholdDuration } from './threshold_duration/index.ts';
import { pageHinkley } from './page_hinkley/index.ts';
import { ddm } from './ddm/index.ts';
import { eddm } from './eddm/index.ts';
import { adwin } from './adwin/index.ts';
import { halfSpaceTrees } from './half_space_trees/index.ts';
import { logNewTemplate } from './log_new_template/index.ts';
import { logTemplateRate } from './log_template_rate/index.ts';
import { logSequence } from './log_sequence/index.ts';
import { seasonalBaseline } from './seasonal_baseline/index.ts';
import { createCalibrated } from './calibrated/index.ts';
import { rateBaseline } from './rate_baseline/index.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous params/state, checked per entry
export type AnyDetectorDef = DetectorDef<any, any, any>;

export const detectorRegistry: Readonly<Record<string, AnyDetectorDef>> = {
  flatline,
  event_burst: eventBurst,
  rolling_zscore: rollingZScore,
  threshold_duration: thresholdDuration,
  ema_baseline: emaBaseline,
  sma_baseline: smaBaseline,
  count_rate: countRate,
  rule,
  range_record: rangeRecord,
  pattern_novelty: patternNovelty,
  seasonal_error: seasonalError,
  fuzzy_art: fuzzyArt,
  page_hinkley: pageHinkley,
  ddm,
  eddm,
  adwin,
  half_space_trees: halfSpaceTrees,
  log_new_template: logNewTemplate,
  log_template_rate: logTemplateRate,
  log_sequence: logSequence,
  // Members are looked up when an ensemble is initialised, so referring to the registry here is safe.
  ensemble: createEnsemble((type) => detectorRegistry[type]),
  seasonal_baseline: seasonalBaseline,
  rate_baseline: rateBaseline,
  // Like the ensemble, the wrapped detector is looked up when params are resolved, not at import.
  calibrated: createCalibrated((type) => detectorRegistry[type]),
};
