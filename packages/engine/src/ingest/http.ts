/**
 * The HTTP ingest endpoint: `POST /ingest` takes one JSON event, a JSON array or NDJSON lines.
 * The body size limit is enforced while reading, before any parsing (Content-Length is checked
 * first; a body without one is counted as it streams). Each record is validated; valid events go
 * to their modality topic, rejected ones to the dead-letter topic with their reason, and the
 * answer lists every rejection with its index, line and field errors. 200 once everything is
 * acknowledged by Kafka (400 when no record was valid, 413 too large, 503 Kafka unavailable).
 *
 * Before the body is read: the caller's address takes a token from its rate-limit bucket, the API
 * key (`Authorization: Bearer rk_…` or `X-API-Key`) must belong to the `ingest` role (401/403),
 * and the key takes a token from its own bucket; an empty bucket answers 429 with `Retry-After`.
 * Refusals are counted in `retimuad_ingest_requests_total{outcome}` (GET /metrics, any valid key).
 *
 * @example
 * curl -s localhost:8088/ingest -H "authorization: Bearer $KEY" -H 'content-type: application/x-ndjson' --data-binary @readings.ndjson
 * // {"accepted":2,"rejected":1,"errors":[{"index":1,"line":2,"reason":"/value: expected a finite number, got \"abc\"",...}]}
 */
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import type { Principal } from '../auth/access.ts';
import { remoteAddress } from '../api/access-routes.ts';
import { listenHttp, type TlsMaterial } from '../api/tls.ts';
import type { Clock } from '../runtime/types.ts';
import type { RateLimiter } from './limits.ts';
import { splitPayload, validateRecords, type Validated } from './records.ts';

export interface HttpIngestOptions {
  /** Produces accepted events and dead letters; resolves once durable. */
  write(accepted: Validated['accepted'], rejected: Validated['rejected'], now: number): Promise<void>;
  max_body_bytes: number;
  max_media_bytes: number;
  site?: string;
  clock: Clock;
  logger: Logger;
  /** Counts for health and metrics. */
  stats?: IngestStats;
  /** Resolves an API key; absent = no authentication (tests of the record path, auth.required false). */
  authenticate?: (key: string) => Principal | undefined;
  /** Token buckets by remote address and by API key; absent = unlimited. */
  limits?: { per_address?: RateLimiter; per_key?: RateLimiter };
  /** Where the request counters live (GET /metrics); a private registry by default. */
  registry?: Registry;
}

export interface IngestStats {
  requests: number;
  accepted: number;
  rejected: number;
  failed: number;
  /** Requests refused by a rate limit (429). */
  rate_limited?: number;
  /** Requests refused for missing, wrong or under-privileged credentials (401/403). */
  unauthorized?: number;
}

export type IngestOutcome =
  'ok' | 'invalid' | 'too_large' | 'unauthenticated' | 'forbidden' | 'rate_limited' | 'unavailable';

function apiKeyOf(c: Context): string | undefined {
  const h = c.req.header('authorization');
  const m = h === undefined ? null : /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1] ?? c.req.header('x-api-key');
}

function requestCounter(registry: Registry): Counter<'outcome'> {
  const name = 'retimuad_ingest_requests_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'outcome'>;
  return new Counter({
    name,
    help: 'HTTP ingest requests by outcome (ok, invalid, too_large, unauthenticated, forbidden, rate_limited, unavailable).',
    labelNames: ['outcome'],
    registers: [registry],
  });
}

class TooLarge extends Error {}

async function readLimited(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(declared) && declared > limit) throw new TooLarge();
  if (req.body === null) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createIngestApp(o: HttpIngestOptions): Hono {
  const app = new Hono();
  const stats = o.stats ?? { requests: 0, accepted: 0, rejected: 0, failed: 0 };
  const registry = o.registry ?? new Registry();
  const counter = requestCounter(registry);
  const refuse = (c: Context, status: 401 | 403 | 429, outcome: IngestOutcome, code: string, message: string) => {
    counter.inc({ outcome });
    if (status === 429) stats.rate_limited = (stats.rate_limited ?? 0) + 1;
    else stats.unauthorized = (stats.unauthorized ?? 0) + 1;
    return c.json({ error: { code, message } }, status);
  };
  const limited = (c: Context, which: 'address' | 'key', who: string, retry: number) => {
    c.header('Retry-After', String(retry));
    return refuse(
      c,
      429,
      'rate_limited',
      'E_INGEST_RATE_LIMITED',
      `too many requests from ${which} ${who}: retry after ${retry} s (http.rate_limit)`,
    );
  };
  /** Address bucket, then credentials, then the key's bucket: all before the body is read. */
  const admit = (c: Context, need: 'ingest' | 'any'): Response | Principal | undefined => {
    const addr = remoteAddress(c) ?? 'unknown';
    const byAddr = o.limits?.per_address?.take(addr);
    if (byAddr !== undefined && !byAddr.ok) return limited(c, 'address', addr, byAddr.retry_after_secs);
    if (o.authenticate === undefined) return undefined;
    const key = apiKeyOf(c);
    if (key === undefined)
      return refuse(
        c,
        401,
        'unauthenticated',
        'E_INGEST_UNAUTHENTICATED',
        `${c.req.method} ${c.req.path} needs an API key of the ingest role (Authorization: Bearer …)`,
      );
    const p = o.authenticate(key);
    if (p === undefined)
      return refuse(c, 401, 'unauthenticated', 'E_INGEST_UNAUTHENTICATED', 'the API key is not valid');
    if (need === 'ingest' && p.role !== 'ingest')
      return refuse(
        c,
        403,
        'forbidden',
        'E_INGEST_FORBIDDEN',
        `${p.name} is a ${p.role} key: sending records needs a key of the ingest role`,
      );
    const byKey = o.limits?.per_key?.take(p.name);
    if (byKey !== undefined && !byKey.ok) return limited(c, 'key', p.name, byKey.retry_after_secs);
    return p;
  };
  app.get('/health', (c) => c.json({ status: 'ok', ...stats }));
  app.get('/metrics', async (c) => {
    const a = admit(c, 'any');
    if (a instanceof Response) return a;
    return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
  });
  app.post('/ingest', async (c) => {
    stats.requests++;
    const a = admit(c, 'ingest');
    if (a instanceof Response) return a;
    let text: string;
    try {
      text = await readLimited(c.req.raw, o.max_body_bytes);
    } catch (err) {
      if (err instanceof TooLarge) {
        counter.inc({ outcome: 'too_large' });
        return c.json(
          {
            error: {
              code: 'E_INGEST_TOO_LARGE',
              message: `request body exceeds ${o.max_body_bytes} bytes (max_body_bytes)`,
            },
          },
          413,
        );
      }
      throw err;
    }
    const now = o.clock.now();
    const records = splitPayload(text, c.req.header('content-type'));
    if (records.length === 0) {
      counter.inc({ outcome: 'invalid' });
      return c.json({ error: { code: 'E_INGEST_EMPTY', message: 'the body holds no record' } }, 400);
    }
    const v = validateRecords(records, {
      now,
      source: 'http',
      max_media_bytes: o.max_media_bytes,
      where: 'http POST /ingest',
      ...(o.site === undefined ? {} : { site: o.site }),
    });
    try {
      await o.write(v.accepted, v.rejected, now);
    } catch (err) {
      stats.failed += records.length;
      counter.inc({ outcome: 'unavailable' });
      o.logger.error({ err }, 'ingest write failed');
      const code = (err as { code?: string }).code ?? 'E_INGEST_WRITE';
      return c.json({ error: { code, message: `records not stored, retry later: ${(err as Error).message}` } }, 503);
    }
    stats.accepted += v.accepted.length;
    stats.rejected += v.rejected.length;
    counter.inc({ outcome: v.accepted.length === 0 ? 'invalid' : 'ok' });
    const errors = v.rejected.map(({ index, line, reason, errors }) => ({
      index,
      ...(line === undefined ? {} : { line }),
      reason,
      errors,
    }));
    return c.json(
      { accepted: v.accepted.length, rejected: v.rejected.length, errors },
      v.accepted.length === 0 ? 400 : 200,
    );
  });
  return app;
}

/** Listens on host:port (0 picks a free port), over HTTPS when `tls` is given; resolves the URL and a close function. */
export async function listenIngest(
  app: Hono,
  port: number,
  host: string,
  tls?: TlsMaterial,
): Promise<{ url: string; close(): Promise<void> }> {
  const { url, server } = await listenHttp(app.fetch, port, host, tls);
  return {
    url,
    close: () =>
      new Promise<void>((done) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
