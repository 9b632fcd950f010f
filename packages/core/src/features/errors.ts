/**
 * The one error the feature decoders raise: media that is corrupt, truncated or in a format we do
 * not read. Its stable `code` lets the pipeline dead-letter it without parsing the message.
 *
 * @example
 * try { decodeWav(bytes) } catch (e) { if (e instanceof MediaDecodeError) deadLetter(e.message) }
 */
export type MediaErrorCode = 'E_MEDIA_DECODE';

export class MediaDecodeError extends Error {
  override readonly name = 'MediaDecodeError';
  readonly code: MediaErrorCode = 'E_MEDIA_DECODE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
