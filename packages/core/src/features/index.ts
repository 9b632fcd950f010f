/**
 * Media feature maths (pure): WAV and PNG decoding, audio spectral/impulse features, image
 * luminance and change against a running background. The engine's media-feature stage turns
 * these into Reading events for the stream detectors.
 *
 * @example
 * import { decodeWav, audioFeatures } from '../features/index.ts';
 * const { samples, sampleRateHz } = decodeWav(bytes); const f = audioFeatures(samples, sampleRateHz);
 */
export { MediaDecodeError, type MediaErrorCode } from './errors.ts';
export { decodeWav, type DecodedWav } from './wav.ts';
export { decodePng, MAX_PNG_PIXELS, type DecodedPng } from './png.ts';
export { fft, powerSpectrum, isPowerOfTwo, nextPowerOfTwo } from './fft.ts';
export { audioFeatures, SILENCE_DB, type AudioFeatures, type AudioFeatureOptions } from './audio.ts';
export {
  imageFeatures,
  meanLuma,
  downsample,
  blockFor,
  isBackground,
  type Background,
  type ChangeBox,
  type ImageFeatures,
  type ImageFeatureOptions,
} from './image.ts';
