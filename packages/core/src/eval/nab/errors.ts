/**
 * Errors raised by the NAB scorer, each with a stable `code` so callers can branch on it.
 *
 * @example
 * try { planNabFile(ts, windows) } catch (e) { if (e instanceof NabError && e.code === 'E_NAB_WINDOWS') ... }
 */
export type NabErrorCode =
  | 'E_NAB_WINDOWS'
  | 'E_NAB_SCORES'
  | 'E_NAB_PROFILE'
  | 'E_NAB_INPUT';

export class NabError extends Error {
  override readonly name = 'NabError';
  constructor(
    readonly code: NabErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
