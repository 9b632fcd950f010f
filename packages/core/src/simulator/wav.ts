/**
 * WAV (RIFF, PCM 16-bit, mono) encoding of float samples, and a strict parser used by tests
 * and by anyone reading the simulator's clips back.
 *
 * @example
 * const bytes = encodeWav(new Float32Array([0, 0.5, -0.5]), 16000);
 * const { sampleRateHz, samples } = parseWav(bytes);
 */

export interface WavData {
  sampleRateHz: number;
  channels: number;
  bitsPerSample: number;
  /** Samples of the first channel scaled to [-1, 1]. */
  samples: Float32Array;
}

export class WavError extends Error {
  readonly code = 'E_WAV_FORMAT';
}

/** Encodes mono samples in [-1, 1] (clipped) as 16-bit PCM WAV. */
export function encodeWav(samples: Float32Array, sampleRateHz: number): Uint8Array {
  const dataBytes = samples.length * 2;
  const buf = new Uint8Array(44 + dataBytes);
  const v = new DataView(buf.buffer);
  const ascii = (off: number, s: string): void => {
    for (let i = 0; i < s.length; i++) buf[off + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, sampleRateHz, true);
  v.setUint32(28, sampleRateHz * 2, true); // byte rate
  v.setUint16(32, 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    v.setInt16(44 + i * 2, Math.round(s * 32767), true);
  }
  return buf;
}

/** Parses a PCM 16-bit WAV; throws WavError naming what is wrong. */
export function parseWav(bytes: Uint8Array): WavData {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (off: number): string => String.fromCharCode(...bytes.subarray(off, off + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new WavError('not a RIFF/WAVE file');
  let off = 12;
  let fmt: { channels: number; rate: number; bits: number } | undefined;
  while (off + 8 <= bytes.length) {
    const id = tag(off);
    const size = v.getUint32(off + 4, true);
    const body = off + 8;
    if (body + size > bytes.length) throw new WavError(`chunk ${id} at ${off} runs past the end of the file`);
    if (id === 'fmt ') {
      if (v.getUint16(body, true) !== 1) throw new WavError('only PCM WAV is supported');
      fmt = { channels: v.getUint16(body + 2, true), rate: v.getUint32(body + 4, true), bits: v.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('data chunk before fmt chunk');
      if (fmt.bits !== 16) throw new WavError(`expected 16 bits per sample, got ${fmt.bits}`);
      const frames = Math.floor(size / (2 * fmt.channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = v.getInt16(body + i * 2 * fmt.channels, true) / 32767;
      return { sampleRateHz: fmt.rate, channels: fmt.channels, bitsPerSample: fmt.bits, samples };
    }
    off = body + size + (size & 1);
  }
  throw new WavError('no data chunk');
}
