// A real TLS handshake with the API server and the ingest endpoint: a self-signed certificate is
// made with the openssl CLI for this test; a client trusting it gets through, one that does not
// is refused by its own TLS check, and a plain-HTTP client gets no answer from the HTTPS port.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessControl } from '../auth/access.ts';
import { createIngestApp, listenIngest } from '../ingest/http.ts';
import type { BlobStore } from '../runtime/types.ts';
import type { StoreReader } from '../runtime/types.ts';
import { createLiveHub } from './deps.ts';
import { createApiServer } from './server.ts';
import { apiTls, apiTlsFromEnv, loadTls, type TlsFiles } from './tls.ts';

let dir = '';
let files: TlsFiles;
let ca: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-tls-'));
  files = { cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem') };
  await promisify(execFile)(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      files.key_file,
      '-out',
      files.cert_file,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { timeout: 20_000 },
  );
  ca = await readFile(files.cert_file);
}, 30_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

function get(
  url: string,
  o: { ca?: Buffer; headers?: Record<string, string>; method?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: o.method ?? 'GET', headers: o.headers ?? {}, ...(o.ca === undefined ? {} : { ca: o.ca }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  it('the API serves HTTPS with the configured certificate; the key must be a PEM file', async () => {
    const access = createAccessControl({ users: [] });
    const key = (await access.createApiKey('ro', 'viewer')).key;
    const admin = (await access.createApiKey('root', 'admin')).key;
    const blobs: BlobStore = {
      put: () => Promise.reject(new Error('unused')),
      get: () => Promise.reject(new Error('unused')),
    };
    const api = createApiServer({
      store: {} as StoreReader,
      access,
      registry: new Registry(),
      live: createLiveHub(),
      health: () => ({ status: 'ok', uptimeSecs: 1, components: [], queue: { depth: 0, capacity: 1 }, deadLetters: 0 }),
      blobs,
      logger: pino({ level: 'silent' }),
      tls: files,
    });
    const listening = await api.listen(0, '127.0.0.1');
    const url = listening.url;
    try {
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ok = await get(`${url}/api/health`, { ca, headers: { authorization: `Bearer ${key}` } });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toMatchObject({ status: 'ok' });
      expect((await get(`${url}/api/health`, { ca })).status).toBe(401);
      await expect(get(`${url}/api/health`)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      await expect(fetch(url.replace('https:', 'http:'))).rejects.toThrow();
      // The audit log names the peer's address of a real connection.
      expect((await get(`${url}/api/session`, { ca, method: 'DELETE' })).status).toBe(401);
      const audit = await get(`${url}/api/audit`, { ca, headers: { authorization: `Bearer ${admin}` } });
      expect(JSON.parse(audit.body)).toContainEqual(
        expect.objectContaining({ action: 'DELETE /api/session', outcome: 'denied', remote: '127.0.0.1' }),
      );
    } finally {
      await listening.close();
    }
    await expect(loadTls({ cert_file: files.cert_file, key_file: join(dir, 'none.pem') }, 'api')).rejects.toMatchObject(
      {
        code: 'E_TLS_CONFIG',
        message: expect.stringContaining('api.tls_key_file: cannot read') as unknown,
      },
    );
    await writeFile(join(dir, 'junk.pem'), 'not pem');
    await expect(loadTls({ cert_file: join(dir, 'junk.pem'), key_file: files.key_file }, 'api')).rejects.toMatchObject({
      message: expect.stringContaining('is not a PEM file') as unknown,
    });
    expect(apiTlsFromEnv({})).toBeUndefined();
    expect(() => apiTlsFromEnv({ RETIMUAD_API_TLS_CERT_FILE: 'c' })).toThrow(/must be set together/);
    expect(apiTls({})).toEqual({});
    expect(apiTls({ tls_cert_file: 'c.pem', tls_key_file: 'k.pem' })).toEqual({
      tls: { cert_file: 'c.pem', key_file: 'k.pem' },
    });
    expect(() => apiTls({ tls_cert_file: 'c.pem' })).toThrow(
      /api.tls_cert_file and api.tls_key_file must be set together/,
    );
  }, 30_000);

  it('the ingest endpoint serves HTTPS', async () => {
    const app = createIngestApp({
      write: () => Promise.resolve(),
      max_body_bytes: 1000,
      max_media_bytes: 1000,
      clock: { now: () => 0 },
      logger: pino({ level: 'silent' }),
    });
    const l = await listenIngest(app, 0, '127.0.0.1', await loadTls(files, 'ingest'));
    try {
      expect(l.url.startsWith('https://')).toBe(true);
      const r = await get(`${l.url}/health`, { ca });
      expect(r.status).toBe(200);
    } finally {
      await l.close();
    }
  });
});
