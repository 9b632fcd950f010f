/**
 * HTTPS for the engine's HTTP servers (the API and `retimuad ingest`): certificate and key are
 * PEM files named in config (or, for the API, `RETIMUAD_API_TLS_CERT_FILE` /
 * `RETIMUAD_API_TLS_KEY_FILE`), read at start so a bad path stops the start with its name.
 *
 * @example
 * const { url, server } = await listenHttp(app.fetch, 8443, '0.0.0.0', await loadTls({ cert_file: 'c.pem', key_file: 'k.pem' }, 'api'));
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { serve, type ServerType } from '@hono/node-server';

export interface TlsFiles {
  cert_file: string;
  key_file: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

export class TlsConfigError extends Error {
  readonly code = 'E_TLS_CONFIG';
}

/** The API's TLS files from the environment; undefined when neither is set. */
export function apiTlsFromEnv(env: Record<string, string | undefined>): TlsFiles | undefined {
  const cert = env['RETIMUAD_API_TLS_CERT_FILE'];
  const key = env['RETIMUAD_API_TLS_KEY_FILE'];
  if ((cert ?? '') === '' && (key ?? '') === '') return undefined;
  if ((cert ?? '') === '' || (key ?? '') === '')
    throw new TlsConfigError('RETIMUAD_API_TLS_CERT_FILE and RETIMUAD_API_TLS_KEY_FILE must be set together');
  return { cert_file: cert!, key_file: key! };
}

export async function loadTls(t: TlsFiles, where: string): Promise<TlsMaterial> {
  const read = async (path: string, field: string): Promise<Buffer> => {
    try {
      const b = await readFile(path);
      if (!b.toString('latin1').includes('-----BEGIN'))
        throw new TlsConfigError(`${where}.${field}: ${path} is not a PEM file`);
      return b;
    } catch (err) {
      if (err instanceof TlsConfigError) throw err;
      throw new TlsConfigError(`${where}.${field}: cannot read ${path} (${(err as Error).message})`, { cause: err });
    }
  };
  const [cert, key] = await Promise.all([read(t.cert_file, 'tls_cert_file'), read(t.key_file, 'tls_key_file')]);
  return { cert, key };
}

/** Listens with HTTP, or HTTPS when `tls` is given; port 0 picks a free port. */
export function listenHttp(
  fetch: (req: Request, env: unknown) => Response | Promise<Response>,
  port: number,
  host: string,
  tls: TlsMaterial | undefined,
): Promise<{ url: string; server: ServerType }> {
  return new Promise((resolve, reject) => {
    const done = (info: { port: number }): void =>
      resolve({
        url: `${tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        server: s,
      });
    const s =
      tls === undefined
        ? serve({ fetch, port, hostname: host }, done)
        : serve(
            {
              fetch,
              port,
              hostname: host,
              createServer: createHttpsServer,
              serverOptions: { cert: tls.cert, key: tls.key },
            },
            done,
          );
    s.once('error', reject);
  });
}

/** TLS files named in the config's `api` section, as createApiServer's `tls` option (none when unset). */
export function apiTls(api: { tls_cert_file?: string; tls_key_file?: string }): { tls?: TlsFiles } {
  const { tls_cert_file: cert, tls_key_file: key } = api;
  if (cert === undefined && key === undefined) return {};
  if (cert === undefined || key === undefined)
    throw new TlsConfigError('api.tls_cert_file and api.tls_key_file must be set together');
  return { tls: { cert_file: cert, key_file: key } };
}
