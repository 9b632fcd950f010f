/**
 * Sign-in for the HTTP API: a session cookie (HttpOnly, SameSite=Strict) for people, API keys
 * (`Authorization: Bearer rk_…` or `X-API-Key`) for machines, and role checks for routes that
 * change something. Every /api/* route and /metrics need a principal; only signing in does not.
 *
 * Cross-site requests cannot act with the cookie: SameSite=Strict keeps it off them, and every
 * write must send `Content-Type: application/json`, which a plain HTML form cannot. An `ingest`
 * key is refused here (403): it may only send records to `retimuad ingest`.
 *
 * Every mutating request (POST/PUT/PATCH/DELETE under /api/) is written to the audit log with
 * who, what, the target, the outcome and the remote address, whatever the route; admins read
 * it at `GET /api/audit`.
 *
 * @example
 * installAccess(app, access, log);
 * app.post('/api/x', async (c) => { const who = requireRole(c, 'operator', 'acknowledge'); … });
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Logger } from 'pino';
import { ROLES, roleAtLeast, type AccessControl, type Principal, type Role } from '../auth/access.ts';
import { memoryAuditLog, type AuditLog, type AuditOutcome } from '../auth/audit.ts';
import { LIMITS } from './openapi.ts';
import { ApiError, QueryParams } from './params.ts';

export const SESSION_COOKIE = 'retimuad_session';
const principals = new WeakMap<Request, Principal>();
/** Used when the server runs without access control (unit tests of the read API). */
const OPEN: Principal = { name: 'anonymous', role: 'admin', via: 'session' };

export function principalOf(c: Context): Principal | undefined {
  return principals.get(c.req.raw);
}

/** What a route adds to its audit record (the sign-in name tried, the key created, …). */
const auditNotes = new WeakMap<Request, { actor?: string; target?: string; detail?: string }>();
export function noteAudit(c: Context, note: { actor?: string; target?: string; detail?: string }): void {
  auditNotes.set(c.req.raw, { ...auditNotes.get(c.req.raw), ...note });
}

/** The peer's address when served by @hono/node-server; undefined in in-process tests. */
export function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The caller, if their role is at least `need`; otherwise a 403 naming what was refused. */
export function requireRole(c: Context, need: Role, what: string): Principal {
  const p = principalOf(c) ?? OPEN;
  if (!roleAtLeast(p.role, need))
    throw new ApiError(403, 'forbidden', `${what} needs the ${need} role; ${p.name} is a ${p.role}`);
  return p;
}

/** Reads a JSON request body (at most `maxBytes`), refusing other content types. */
export async function readJson(c: Context, maxBytes = 16_384): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type))
    throw new ApiError(
      415,
      'unsupported_media_type',
      `${c.req.method} ${c.req.path}: expected Content-Type application/json`,
    );
  const text = await c.req.text();
  if (text.length > maxBytes)
    throw new ApiError(400, 'bad_body', `${c.req.method} ${c.req.path}: body larger than ${maxBytes} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'bad_body', `${c.req.method} ${c.req.path}: body is not valid JSON`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(400, 'bad_body', `${c.req.method} ${c.req.path}: body must be a JSON object`);
  return body as Record<string, unknown>;
}

export function bodyString(
  b: Record<string, unknown>,
  name: string,
  o: { max: number; required: boolean },
): string | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') {
    if (o.required) throw new ApiError(400, 'bad_body', `body field "${name}" is required`, name);
    return undefined;
  }
  if (typeof v !== 'string') throw new ApiError(400, 'bad_body', `body field "${name}": expected a string`, name);
  if (v.length > o.max) throw new ApiError(400, 'bad_body', `body field "${name}": at most ${o.max} characters`, name);
  return v;
}

function bearer(c: Context): string | undefined {
  const h = c.req.header('authorization');
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1] ?? c.req.header('x-api-key');
}

export function installAccess(app: Hono, access: AccessControl | undefined, log: Logger): AuditLog {
  const audit = access?.audit ?? memoryAuditLog();
  // Outermost, so refusals by the guard (401/403) and failures are recorded as well.
  app.use('/api/*', async (c: Context, next) => {
    await next();
    if (!MUTATING.has(c.req.method)) return;
    const status = c.res.status;
    const outcome: AuditOutcome = status < 400 ? 'ok' : status === 401 || status === 403 ? 'denied' : 'failed';
    const p = principalOf(c);
    const note = auditNotes.get(c.req.raw);
    const remote = remoteAddress(c);
    try {
      await audit.record({
        actor: note?.actor ?? p?.name ?? 'anonymous',
        ...(p === undefined ? {} : { role: p.role }),
        action: `${c.req.method} ${c.req.routePath === '/api/*' ? c.req.path : c.req.routePath}`,
        target: note?.target ?? c.req.path,
        outcome,
        status,
        ...(remote === undefined ? {} : { remote }),
        ...(note?.detail === undefined ? {} : { detail: note.detail }),
      });
    } catch (err) {
      // The action already happened; losing its record must be loud, not a second failure for the client.
      log.error({ err, path: c.req.path }, 'audit record not written');
    }
  });
  const isSignIn = (c: Context): boolean => c.req.path === '/api/session' && c.req.method === 'POST';
  const guard = async (c: Context, next: () => Promise<void>): Promise<Response | void> => {
    if (!access) return next();
    if (isSignIn(c)) return next();
    const key = bearer(c);
    const token = getCookie(c, SESSION_COOKIE);
    const p = key !== undefined ? access.fromApiKey(key) : token !== undefined ? access.fromSession(token) : undefined;
    if (!p) {
      throw new ApiError(
        401,
        'unauthenticated',
        key !== undefined
          ? 'the API key is not valid'
          : 'sign in first (POST /api/session) or send an API key (Authorization: Bearer …)',
      );
    }
    principals.set(c.req.raw, p);
    if (!roleAtLeast(p.role, 'viewer'))
      throw new ApiError(
        403,
        'forbidden',
        `${p.name} is an ${p.role} key: it may only send records to the ingest endpoint`,
      );
    return next();
  };
  app.use('/api/*', guard);
  app.use('/metrics', guard);

  app.post('/api/session', async (c) => {
    const b = await readJson(c, 4096);
    const username = bodyString(b, 'username', { max: 64, required: true })!;
    const password = bodyString(b, 'password', { max: 1024, required: true })!;
    noteAudit(c, { actor: username, detail: 'sign-in' });
    if (!access) return c.json({ name: OPEN.name, role: OPEN.role });
    const s = await access.login(username, password);
    if (!s) {
      log.warn({ username }, 'sign-in failed');
      throw new ApiError(401, 'bad_credentials', 'wrong username or password (or too many attempts: wait a minute)');
    }
    log.info({ username, role: s.principal.role }, 'signed in');
    setCookie(c, SESSION_COOKIE, s.token, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: new URL(c.req.url).protocol === 'https:',
      expires: new Date(s.expiresAt),
    });
    return c.json({ name: s.principal.name, role: s.principal.role });
  });

  app.get('/api/session', (c) => {
    const p = principalOf(c) ?? OPEN;
    return c.json({ name: p.name, role: p.role });
  });

  app.delete('/api/session', (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token !== undefined) access?.logout(token);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.body(null, 204);
  });

  app.get('/api/keys', (c) => {
    requireRole(c, 'admin', 'listing API keys');
    return c.json(access?.apiKeys() ?? []);
  });

  app.post('/api/keys', async (c) => {
    const who = requireRole(c, 'admin', 'creating an API key');
    const b = await readJson(c, 4096);
    const name = bodyString(b, 'name', { max: 64, required: true })!;
    const role = bodyString(b, 'role', { max: 16, required: true })!;
    if (!(ROLES as readonly string[]).includes(role))
      throw new ApiError(400, 'bad_body', `body field "role": expected one of ${ROLES.join(', ')}`, 'role');
    if (!access) throw new ApiError(404, 'not_found', 'access control is not enabled on this server');
    noteAudit(c, { target: `api key ${name}`, detail: `role ${role}` });
    const k = await access.createApiKey(name, role as Role);
    log.info({ by: who.name, key: name, role }, 'API key created');
    return c.json(k, 201);
  });

  app.get('/api/audit', (c) => {
    requireRole(c, 'admin', 'reading the audit log');
    const q = new QueryParams(c.req.query(), ['actor', 'action', 'outcome', 'from', 'to', 'limit']);
    const actor = q.text('actor', 200);
    const action = q.text('action', 200);
    const outcome = q.oneOf('outcome', ['ok', 'denied', 'failed'] as const);
    const range = q.range(Date.now());
    const limit = q.int('limit', { min: 1, ...LIMITS.audit });
    return c.json(
      audit.query({
        limit,
        ...(actor === undefined ? {} : { actor }),
        ...(action === undefined ? {} : { action }),
        ...(outcome === undefined ? {} : { outcome }),
        ...(range === undefined ? {} : { from: range.from, to: range.to }),
      }),
    );
  });
  return audit;
}
