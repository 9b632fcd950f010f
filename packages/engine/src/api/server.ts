/**
 * The HTTP API and the dashboard, served by the engine process itself (embedded mode):
 * JSON read routes over the store, a Server-Sent-Events live stream, Prometheus metrics,
 * the OpenAPI document, and the dashboard bundled in memory at start.
 *
 * @example
 * const api = createApiServer({ store, registry, live, health, blobs, logger });
 * const { url, close } = await api.listen(8080, '127.0.0.1');
 * // ... later
 * await close();
 */
import { Hono, type Context } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import { Counter, type Registry } from 'prom-client';
import { systemClock } from '../runtime/types.ts';
import { LIVE_MESSAGE_TYPES, type ApiDeps, type LiveMessage, type LiveMessageType } from './deps.ts';
import { LIMITS, openApiDocument } from './openapi.ts';
import { ApiError, QueryParams, SHA256_RE, checkId } from './params.ts';
import { buildWeb, type WebFile } from './web-bundle.ts';
import { bodyString, installAccess, readJson, requireRole } from './access-routes.ts';
import type { IncidentActionKind } from '../storage/duckdb-store.ts';
import { AnalyzeError } from '../analytics/analyze.ts';
import { apiTlsFromEnv, listenHttp, loadTls } from './tls.ts';

export interface ApiServer {
  app: Hono;
  /** Builds the dashboard, then listens; port 0 picks a free port (see `url`). */
  listen(port: number, host: string): Promise<{ url: string; close(): Promise<void> }>;
}

const ACTIONS = ['acknowledge', 'comment', 'resolve'] as const;
const LOG_LEVELS = ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical', 'alert', 'emergency'] as const;

/** Content types recognised from a blob's first bytes; anything else is served as opaque bytes. */
export function sniffContentType(b: Uint8Array): string {
  const at = (i: number, s: string): boolean => [...s].every((ch, k) => b[i + k] === ch.charCodeAt(0));
  if (b[0] === 0x89 && at(1, 'PNG')) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (at(0, 'GIF8')) return 'image/gif';
  if (at(0, 'RIFF') && at(8, 'WEBP')) return 'image/webp';
  if (at(0, 'RIFF') && at(8, 'WAVE')) return 'audio/wav';
  if (at(0, 'OggS')) return 'audio/ogg';
  if (at(0, 'fLaC')) return 'audio/flac';
  if (at(0, 'ID3') || (b[0] === 0xff && b[1] !== undefined && (b[1] & 0xe0) === 0xe0)) return 'audio/mpeg';
  return 'application/octet-stream';
}

/** True when a BlobStore error means "no such blob" rather than a failure to read (e.g. E_BLOB_NOT_FOUND). */
function isMissing(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // A coded error is judged by its code alone: an I/O failure must stay a 500, not pass as a 404.
  if (typeof code === 'string') return /not.?found|ENOENT/i.test(code);
  return /not found|no such/i.test(err.message);
}

const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  mediaSrc: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** One counter per registry, shared when several servers use the same registry (tests). */
function counterIn(registry: Registry): Counter<'route' | 'status'> {
  const name = 'retimuad_api_requests_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'route' | 'status'>;
  return new Counter({
    name,
    help: 'HTTP API requests by route pattern and status code.',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
}

export function createApiServer(deps: ApiDeps): ApiServer {
  const clock = deps.clock ?? systemClock;
  const heartbeatMs = deps.sseHeartbeatMs ?? 15_000;
  const log = deps.logger.child({ component: 'api' });
  const app = new Hono();
  /** Aborts every open event stream so `close()` does not wait for clients. */
  const streams = new Set<() => void>();

  let web: Promise<Map<string, WebFile>> | undefined;
  const getWeb = (): Promise<Map<string, WebFile>> => {
    web ??= buildWeb(deps.webDir === undefined ? {} : { webDir: deps.webDir }).then((r) => r.files);
    return web;
  };

  const requests = counterIn(deps.registry);
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    // Label by route pattern, not raw path, so ids and shas do not explode the label set.
    const route = c.req.routePath;
    requests.inc({ route, status: String(c.res.status) });
    log.debug(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: CSP,
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use('/api/*', async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });

  // Before every route: sign-in and API keys guard /api/* and /metrics.
  installAccess(app, deps.access, log);

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.status === 500) log.error({ err, path: c.req.path }, err.message);
      return c.json(
        { error: { code: err.code, message: err.message, ...(err.param === undefined ? {} : { param: err.param }) } },
        err.status,
      );
    }
    log.error({ err, path: c.req.path }, 'request failed');
    return c.json({ error: { code: 'internal', message: `internal error while serving ${c.req.path}` } }, 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  const params = (c: Context, allowed: readonly string[]): QueryParams => new QueryParams(c.req.query(), allowed);

  app.get('/api/health', (c) => {
    params(c, []);
    return c.json(deps.health());
  });

  app.get('/api/assets', async (c) => {
    params(c, []);
    return c.json(await deps.store.assets());
  });

  app.get('/api/series', async (c) => {
    const q = params(c, ['site', 'asset', 'metric', 'from', 'to', 'max_points']);
    const site = q.requiredName('site');
    const asset = q.requiredName('asset');
    const metric = q.requiredName('metric');
    const range = q.range(clock.now(), 3_600_000)!;
    const maxPoints = q.int('max_points', { min: 2, ...LIMITS.maxPoints });
    return c.json(await deps.store.series(site, asset, metric, range, maxPoints));
  });

  app.get('/api/scores', async (c) => {
    const q = params(c, ['site', 'asset', 'from', 'to', 'max_points']);
    const site = q.requiredName('site');
    const asset = q.requiredName('asset');
    const range = q.range(clock.now(), 3_600_000)!;
    const maxPoints = q.int('max_points', { min: 2, ...LIMITS.maxPoints });
    return c.json(await deps.store.scores(site, asset, range, maxPoints));
  });

  app.get('/api/anomalies', async (c) => {
    const q = params(c, ['asset', 'from', 'to', 'limit']);
    const asset = q.name('asset');
    const range = q.range(clock.now());
    const limit = q.int('limit', { min: 1, ...LIMITS.anomalies });
    return c.json(await deps.store.anomalies({ limit, ...(asset && { asset }), ...(range && { range }) }));
  });

  app.get('/api/incidents', async (c) => {
    const q = params(c, ['status', 'asset', 'from', 'to', 'limit']);
    const status = q.oneOf('status', ['open', 'resolved'] as const);
    const asset = q.name('asset');
    const range = q.range(clock.now());
    const limit = q.int('limit', { min: 1, ...LIMITS.incidents });
    return c.json(
      await deps.store.incidents({
        limit,
        ...(status && { status }),
        ...(asset && { asset }),
        ...(range && { range }),
      }),
    );
  });

  app.get('/api/incidents/:id', async (c) => {
    params(c, []);
    const id = checkId('id', c.req.param('id'));
    const inc = await deps.store.incident(id);
    if (!inc) throw new ApiError(404, 'not_found', `no incident with id ${JSON.stringify(id)}`);
    return c.json(inc);
  });

  const actionStore = () => {
    if (!deps.actions) throw new ApiError(404, 'not_found', 'incident actions are not available on this server');
    return deps.actions;
  };

  app.get('/api/incidents/:id/actions', async (c) => {
    params(c, []);
    const id = checkId('id', c.req.param('id'));
    return c.json(await actionStore().incidentActions(id));
  });

  app.post('/api/incidents/:id/actions', async (c) => {
    const id = checkId('id', c.req.param('id'));
    const body = await readJson(c);
    const action = bodyString(body, 'action', { max: 20, required: true }) as IncidentActionKind;
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new ApiError(400, 'bad_body', `body field "action": expected one of ${ACTIONS.join(', ')}`, 'action');
    const who = requireRole(c, 'operator', `${action} (incident ${id})`);
    const comment = bodyString(body, 'comment', { max: LIMITS.commentChars, required: action === 'comment' });
    const store = actionStore();
    if (!(await deps.store.incident(id)))
      throw new ApiError(404, 'not_found', `no incident with id ${JSON.stringify(id)}`);
    const rec = await store.addIncidentAction({
      incidentId: id,
      action,
      actor: who.name,
      time: clock.now(),
      ...(comment === undefined ? {} : { comment }),
    });
    log.info({ incident: id, action, actor: who.name }, 'incident action');
    return c.json(rec, 201);
  });

  app.get('/api/incident-handling', async (c) => {
    const q = params(c, ['ids']);
    const raw = q.text('ids', 20_000) ?? '';
    const ids = raw.split(',').filter((x) => x !== '');
    if (ids.length > LIMITS.incidents.max)
      throw new ApiError(400, 'bad_param', `query parameter "ids": at most ${LIMITS.incidents.max} ids`, 'ids');
    ids.forEach((id) => checkId('ids', id));
    const latest = await actionStore().latestIncidentActions(ids);
    return c.json(Object.fromEntries(latest));
  });

  app.get('/api/logs/templates', async (c) => {
    const q = params(c, ['asset', 'from', 'to', 'limit']);
    const asset = q.name('asset');
    const range = q.range(clock.now());
    const limit = q.int('limit', { min: 1, ...LIMITS.templates });
    return c.json(await actionStore().logTemplates({ limit, ...(asset && { asset }), ...(range && { range }) }));
  });

  app.get('/api/logs', async (c) => {
    const q = params(c, ['q', 'level', 'asset', 'from', 'to', 'limit']);
    const text = q.text('q', LIMITS.logQueryChars);
    const level = q.oneOf('level', LOG_LEVELS);
    const asset = q.name('asset');
    const range = q.range(clock.now());
    const limit = q.int('limit', { min: 1, ...LIMITS.logs });
    return c.json(
      await deps.store.logs({
        limit,
        ...(text && { text }),
        ...(level && { level }),
        ...(asset && { asset }),
        ...(range && { range }),
      }),
    );
  });

  app.get('/api/media', async (c) => {
    const q = params(c, ['asset', 'from', 'to', 'limit']);
    const asset = q.name('asset');
    const range = q.range(clock.now());
    const limit = q.int('limit', { min: 1, ...LIMITS.media });
    return c.json(await deps.store.media({ limit, ...(asset && { asset }), ...(range && { range }) }));
  });

  app.get('/api/blobs/:sha256', async (c) => {
    params(c, []);
    const sha = c.req.param('sha256');
    if (!SHA256_RE.test(sha))
      throw new ApiError(400, 'bad_param', 'path parameter "sha256": expected 64 lower-case hex digits', 'sha256');
    let bytes: Uint8Array;
    try {
      bytes = await deps.blobs.get(`blob://${sha}`);
    } catch (err) {
      if (isMissing(err)) throw new ApiError(404, 'not_found', `no blob with sha256 ${sha}`);
      throw err;
    }
    // Content-addressed, so the bytes behind a sha never change.
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': sniffContentType(bytes),
      'Cache-Control': 'public, max-age=31536000, immutable',
      ETag: `"${sha}"`,
    });
  });

  app.get('/api/deadletters', async (c) => {
    const q = params(c, ['limit']);
    return c.json(await deps.store.deadLetters(q.int('limit', { min: 1, ...LIMITS.deadLetters })));
  });

  app.get('/api/labels', async (c) => {
    params(c, []);
    return c.json(await deps.store.labels());
  });

  // Analyses scan every reading of the range, so the range is bounded and only a few run at once;
  // a caller over the limit gets a 429 rather than queueing behind the store.
  let analysing = 0;
  app.get('/api/analytics', async (c) => {
    const q = params(c, ['from', 'to', 'asset']);
    const range = q.range(clock.now(), LIMITS.analytics.defaultSpanMs)!;
    const asset = q.name('asset');
    const span = range.to - range.from;
    if (span < LIMITS.analytics.minSpanMs || span > LIMITS.analytics.maxSpanMs)
      throw new ApiError(
        400,
        'bad_param',
        `query parameters "from"/"to": the range must span ${LIMITS.analytics.minSpanMs / 1000} s to ${LIMITS.analytics.maxSpanMs / 86_400_000} days, got ${Math.round(span / 1000)} s`,
        span < LIMITS.analytics.minSpanMs ? 'to' : 'from',
      );
    if (!deps.analyze)
      throw new ApiError(503, 'unavailable', 'batch analytics are not available on this server (no embedded store)');
    if (analysing >= LIMITS.analytics.concurrent)
      throw new ApiError(429, 'busy', `${analysing} analyses are already running; try again when they finish`);
    analysing++;
    try {
      return c.json(await deps.analyze({ ...range, ...(asset === undefined ? {} : { assets: [asset] }) }));
    } catch (err) {
      if (err instanceof AnalyzeError && err.code === 'E_ANALYZE_OPTIONS')
        throw new ApiError(400, 'bad_param', err.message, undefined, { cause: err });
      throw err;
    } finally {
      analysing--;
    }
  });

  app.get('/api/stream', (c) => {
    const q = params(c, ['types']);
    const raw = q.text('types', 200);
    let wanted: ReadonlySet<LiveMessageType> = new Set(LIVE_MESSAGE_TYPES);
    if (raw !== undefined) {
      const list = raw.split(',').map((s) => s.trim());
      for (const t of list) {
        if (!(LIVE_MESSAGE_TYPES as readonly string[]).includes(t)) {
          throw new ApiError(
            400,
            'bad_param',
            `query parameter "types": unknown type ${JSON.stringify(t)}; expected a comma-separated list of ${LIVE_MESSAGE_TYPES.join(', ')}`,
            'types',
          );
        }
      }
      wanted = new Set(list as LiveMessageType[]);
    }
    c.header('Cache-Control', 'no-store');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(
      c,
      async (stream) => {
        let done!: () => void;
        const ended = new Promise<void>((r) => (done = r));
        const send = (msg: LiveMessage): Promise<void> | undefined =>
          wanted.has(msg.type) && !stream.aborted && !stream.closed
            ? stream.writeSSE({ event: msg.type, data: JSON.stringify(msg.data) })
            : undefined;
        const unsubscribe = deps.live.subscribe((msg) => send(msg));
        const beat = setInterval(() => {
          if (!stream.aborted && !stream.closed) stream.write(': heartbeat\n\n').catch(() => done());
        }, heartbeatMs);
        const finish = (): void => done();
        streams.add(finish);
        stream.onAbort(finish);
        // Tells the browser how soon to reconnect, and proves the stream is open.
        await stream.write('retry: 3000\n: connected\n\n');
        if (wanted.has('health')) await send({ type: 'health', data: deps.health() });
        await ended;
        clearInterval(beat);
        unsubscribe();
        streams.delete(finish);
      },
      (err, stream) => {
        log.warn({ err }, 'event stream failed');
        return stream.close();
      },
    );
  });

  app.get('/metrics', async (c) => {
    params(c, []);
    const text = await deps.registry.metrics();
    return c.body(text, 200, { 'Content-Type': deps.registry.contentType, 'Cache-Control': 'no-store' });
  });

  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  const dashboard = async (c: Context, path: string): Promise<Response> => {
    let files: Map<string, WebFile>;
    try {
      files = await getWeb();
    } catch (err) {
      log.error({ err }, 'dashboard unavailable');
      return c.json(
        { error: { code: 'dashboard_unavailable', message: 'the dashboard failed to build; see the server log' } },
        503,
      );
    }
    const f = files.get(path);
    if (!f) return c.notFound();
    return c.body(f.body as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': f.type, 'Cache-Control': 'no-cache' });
  };
  app.get('/', (c) => dashboard(c, '/index.html'));
  app.get('/:file{[A-Za-z0-9._-]+}', (c) => dashboard(c, `/${c.req.param('file')}`));

  return {
    app,
    async listen(port, host) {
      // Built before accepting requests, so a broken dashboard shows up in the log at start.
      try {
        await getWeb();
      } catch (err) {
        log.error({ err }, 'dashboard build failed; the API is served without it');
      }
      // HTTPS when TLS files are given (deps.tls, or RETIMUAD_API_TLS_CERT_FILE/_KEY_FILE).
      const tlsFiles = deps.tls ?? apiTlsFromEnv(process.env);
      const tls = tlsFiles === undefined ? undefined : await loadTls(tlsFiles, 'api');
      const { server, url } = await listenHttp(app.fetch, port, host, tls);
      log.info({ url }, 'api listening');
      return {
        url,
        close: () =>
          new Promise<void>((resolve, reject) => {
            for (const end of [...streams]) end();
            // Ended streams leave keep-alive connections that turn idle a moment later; sweep
            // them shortly after, and cut whatever is still busy after a grace period.
            const http = 'closeAllConnections' in server ? server : undefined;
            const sweep = setInterval(() => http?.closeIdleConnections(), 20);
            const cut = setTimeout(() => http?.closeAllConnections(), 1000);
            server.close((err) => {
              clearInterval(sweep);
              clearTimeout(cut);
              if (err) reject(err);
              else resolve();
            });
            http?.closeIdleConnections();
          }),
      };
    },
  };
}
