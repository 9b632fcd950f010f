/**
 * Errors raised by the storage layer (blob store, embedded store). Each carries a stable `code`
 * so callers and the API can branch on it without parsing messages, and an optional `cause`.
 *
 * @example
 * try { await blobs.get(uri) } catch (e) { if (e instanceof StorageError && e.code === 'E_BLOB_NOT_FOUND') ... }
 */
export type StorageErrorCode =
  | 'E_BLOB_NOT_FOUND'
  | 'E_BLOB_TOO_LARGE'
  | 'E_BLOB_BAD_URI'
  | 'E_BLOB_CORRUPT'
  | 'E_BLOB_IO'
  | 'E_STORE_OPEN'
  | 'E_STORE_CLOSED'
  | 'E_STORE_WRITE'
  | 'E_STORE_QUERY'
  | 'E_STORE_PARAMS';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
