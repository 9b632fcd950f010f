/**
 * The plant simulator's public surface: the model, its scenario catalogue and the media codecs.
 *
 * @example
 * import { createPlant, SCENARIO_NAMES } from '../simulator/index.ts';
 * const plant = createPlant({ seed: 42, startTime: Date.UTC(2024, 0, 1), schedule: [{ scenario: 'intruder', at_secs: 30 }] });
 * const outputs = plant.advance(Date.UTC(2024, 0, 1) + 120_000);
 */
export { createPlant, CHANNELS, ASSET_STAGES, SimulatorError } from './plant.ts';
export type { Plant, PlantOptions, SimOutput, ReadingDraft, LogDraft, AudioDraft, ImageDraft } from './plant.ts';
export {
  SCENARIOS,
  SCENARIO_NAMES,
  isScenarioName,
  resolveSchedule,
  defaultProgrammeEntry,
  ScheduleError,
  PROGRAMME_FIRST_AT_SECS,
  PROGRAMME_GAP_SECS,
} from './scenarios.ts';
export type { ScenarioName, ScenarioInfo, ScheduledScenario } from './scenarios.ts';
export { encodeWav, parseWav, WavError } from './wav.ts';
export type { WavData } from './wav.ts';
export { encodePngGray, parsePngGray, crc32, PngError } from './png.ts';
export type { PngGray } from './png.ts';
export { BEARING_TONE_HZ } from './audio.ts';
export { createRng } from './prng.ts';
export type { Rng } from './prng.ts';
