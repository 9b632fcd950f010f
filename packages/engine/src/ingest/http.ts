/**
 * The HTTP ingest endpoint: `POST /ingest` takes one JSON event, a JSON array or NDJSON lines.
 * The body size limit is enforced while reading, before any parsing (Content-Length is checked
 * first; a body without one is counted as it streams). Each record is validated; valid events go
 * to their modality topic, rejected ones to the dead-letter topic with their reason, and the
 * answer lists every rejection with its index, line and field errors. 200 once everything is
 * acknowledged by Kafka (400 when no record was valid, 413 too large, 503 Kafka unavailable).
 *
 * @example
 * curl -s localhost:8088/ingest -H 'content-type: application/x-ndjson' --data-binary @readings.ndjson
 * // {"accepted":2,"rejected":1,"errors":[{"index":1,"line":2,"reason":"/value: expected a finite number, got \"abc\"",...}]}
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/types.ts';
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
}

export interface IngestStats {
  requests: number;
  accepted: number;
  rejected: number;
  failed: number;
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
  app.get('/health', (c) => c.json({ status: 'ok', ...stats }));
  app.post('/ingest', async (c) => {
    stats.requests++;
    let text: string;
    try {
      text = await readLimited(c.req.raw, o.max_body_bytes);
    } catch (err) {
      if (err instanceof TooLarge) {
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
    if (records.length === 0)
      return c.json({ error: { code: 'E_INGEST_EMPTY', message: 'the body holds no record' } }, 400);
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
      o.logger.error({ err }, 'ingest write failed');
      const code = (err as { code?: string }).code ?? 'E_INGEST_WRITE';
      return c.json({ error: { code, message: `records not stored, retry later: ${(err as Error).message}` } }, 503);
    }
    stats.accepted += v.accepted.length;
    stats.rejected += v.rejected.length;
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

/** Listens on host:port (0 picks a free port); resolves the URL and a close function. */
export function listenIngest(app: Hono, port: number, host: string): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) =>
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}
