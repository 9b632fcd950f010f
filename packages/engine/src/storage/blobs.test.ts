import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsBlobStore, parseBlobUri } from './blobs.ts';
import { StorageError } from './errors.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimu-blobs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StorageError);
    return (e as StorageError).code;
  }
  return undefined;
}

describe('createFsBlobStore', () => {
  it('round-trips bytes and describes them in the MediaRef', async () => {
    const blobs = createFsBlobStore(dir);
    const bytes = new Uint8Array([1, 2, 3, 250, 0, 7]);
    const ref = await blobs.put(bytes, 'audio/wav');
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(ref).toEqual({ uri: `blob://${sha}`, contentType: 'audio/wav', bytes: 6, sha256: sha });
    expect(Array.from(await blobs.get(ref.uri))).toEqual(Array.from(bytes));
    // A second store over the same directory sees it (it is on disk, not in memory).
    expect(Array.from(await createFsBlobStore(dir).get(ref.uri))).toEqual(Array.from(bytes));
  });

  it('stores identical content once', async () => {
    const blobs = createFsBlobStore(dir);
    const a = await blobs.put(new TextEncoder().encode('same'), 'text/plain');
    const b = await blobs.put(new TextEncoder().encode('same'), 'text/plain');
    expect(a.uri).toBe(b.uri);
    const shards = await readdir(dir);
    expect(shards).toHaveLength(1);
    expect(await readdir(join(dir, shards[0]!))).toEqual([a.sha256]);
  });

  it('rejects blobs above maxBytes with E_BLOB_TOO_LARGE, accepts exactly maxBytes', async () => {
    const blobs = createFsBlobStore(dir, { maxBytes: 16 });
    expect(await codeOf(blobs.put(new Uint8Array(17), 'image/png'))).toBe('E_BLOB_TOO_LARGE');
    const ok = await blobs.put(new Uint8Array(16), 'image/png');
    expect(ok.bytes).toBe(16);
  });

  it('defaults to a 10 MiB limit', async () => {
    const blobs = createFsBlobStore(dir);
    expect(await codeOf(blobs.put(new Uint8Array(10 * 1024 * 1024 + 1), 'image/png'))).toBe('E_BLOB_TOO_LARGE');
  });

  it('reports a missing blob with E_BLOB_NOT_FOUND and a bad uri with E_BLOB_BAD_URI', async () => {
    const blobs = createFsBlobStore(dir);
    expect(await codeOf(blobs.get(`blob://${'a'.repeat(64)}`))).toBe('E_BLOB_NOT_FOUND');
    expect(await codeOf(blobs.get('file:///etc/passwd'))).toBe('E_BLOB_BAD_URI');
    expect(await codeOf(blobs.get('blob://../../x'))).toBe('E_BLOB_BAD_URI');
    expect(() => parseBlobUri(`blob://${'A'.repeat(64)}`)).toThrow(/blob:\/\//);
  });

  it('detects a blob whose content no longer matches its hash', async () => {
    const blobs = createFsBlobStore(dir);
    const ref = await blobs.put(new Uint8Array([9, 9, 9]), 'application/octet-stream');
    await writeFile(join(dir, ref.sha256.slice(0, 2), ref.sha256), new Uint8Array([1]));
    expect(await codeOf(blobs.get(ref.uri))).toBe('E_BLOB_CORRUPT');
  });
});
