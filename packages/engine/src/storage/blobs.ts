/**
 * A content-addressed blob store on the local file system: bytes are stored once under their
 * sha256 (`<dir>/<first two hex>/<sha256>`) and referenced as `blob://<sha256>`. Media events
 * (audio clips, camera frames) carry the returned MediaRef instead of inlining bytes.
 *
 * @example
 * const blobs = createFsBlobStore('data/blobs', { maxBytes: 5 * 1024 * 1024 });
 * const ref = await blobs.put(pngBytes, 'image/png'); // { uri: 'blob://9f86…', contentType, bytes, sha256 }
 * const bytes = await blobs.get(ref.uri);
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaRef } from '../../../core/src/schema/events.ts';
import type { BlobStore } from '../runtime/types.ts';
import { StorageError } from './errors.ts';

export const DEFAULT_MAX_BLOB_BYTES = 10 * 1024 * 1024;
const URI_PREFIX = 'blob://';
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface FsBlobStoreOptions {
  /** Largest blob accepted by `put`, in bytes (default 10 MiB). */
  maxBytes?: number;
}

/** The sha256 (lower-case hex) named by a `blob://` uri; throws E_BLOB_BAD_URI otherwise. */
export function parseBlobUri(uri: string): string {
  const hash = uri.startsWith(URI_PREFIX) ? uri.slice(URI_PREFIX.length) : '';
  if (!SHA256_HEX.test(hash)) {
    throw new StorageError('E_BLOB_BAD_URI', `blob uri ${JSON.stringify(uri)} is not of the form blob://<64 lower-case hex sha256>`);
  }
  return hash;
}

export function createFsBlobStore(dir: string, opts: FsBlobStoreOptions = {}): BlobStore {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BLOB_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 0) {
    throw new StorageError('E_STORE_PARAMS', `blob store maxBytes must be a non-negative integer, got ${String(maxBytes)}`);
  }
  const pathOf = (hash: string): string => join(dir, hash.slice(0, 2), hash);

  return {
    async put(bytes: Uint8Array, contentType: string): Promise<MediaRef> {
      if (bytes.byteLength > maxBytes) {
        throw new StorageError(
          'E_BLOB_TOO_LARGE',
          `blob of ${bytes.byteLength} bytes (${contentType}) exceeds the blob store limit of ${maxBytes} bytes`,
        );
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const ref: MediaRef = { uri: URI_PREFIX + sha256, contentType, bytes: bytes.byteLength, sha256 };
      const path = pathOf(sha256);
      // Same content, same name: if it is already there, there is nothing to write.
      if (await exists(path)) return ref;
      try {
        await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true });
        // Write then rename, so a reader never sees a half-written blob under its final name.
        const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
        await writeFile(tmp, bytes);
        try {
          await rename(tmp, path);
        } catch (err) {
          await unlink(tmp).catch(() => undefined);
          throw err;
        }
      } catch (err) {
        throw new StorageError('E_BLOB_IO', `could not write blob ${ref.uri} under ${dir}: ${(err as Error).message}`, { cause: err });
      }
      return ref;
    },

    async get(uri: string): Promise<Uint8Array> {
      const hash = parseBlobUri(uri);
      const path = pathOf(hash);
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new StorageError('E_BLOB_NOT_FOUND', `blob ${uri} not found in blob store ${dir} (looked for ${path})`, { cause: err });
        }
        throw new StorageError('E_BLOB_IO', `could not read blob ${uri} from ${path}: ${(err as Error).message}`, { cause: err });
      }
      // Content addressing makes corruption detectable for the price of one hash; worth it for evidence.
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== hash) {
        throw new StorageError('E_BLOB_CORRUPT', `blob ${uri} at ${path} is corrupt: its content hashes to ${actual}`);
      }
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
