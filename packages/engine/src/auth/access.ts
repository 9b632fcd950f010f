/**
 * Who may do what: users (username + scrypt-hashed password) with a role, API keys (hashed)
 * for machines, and in-memory sessions behind an HttpOnly cookie. Roles are ordered:
 * viewer (read) < operator (acknowledge, comment, resolve) < admin (API keys, audit log). The
 * `ingest` role stands apart: it may only send records to `retimuad ingest`, and reads nothing.
 *
 * The users file (`<data_dir>/users.json`, or RETIMUAD_USERS_FILE) holds only hashes:
 * `{ "users": [{ "username": "olga", "role": "operator", "password": "scrypt$…" }],
 *    "apiKeys": [{ "name": "ci", "role": "viewer", "hash": "sha256$…" }] }`.
 * There is no default password: with no users configured, `setupAccess` generates one for
 * `admin`, prints it once and stores only its hash (or the operator sets RETIMUAD_ADMIN_PASSWORD).
 *
 * @example
 * const access = await setupAccess({ dataDir: 'data', env: process.env, print: console.log });
 * const s = await access.login('admin', pw); // { token, principal, expiresAt } or undefined
 * access.fromSession(s.token);               // { name: 'admin', role: 'admin', via: 'session' }
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { memoryAuditLog, openAuditLog, type AuditLog } from './audit.ts';
import { AuthError } from './errors.ts';
import { readSecret } from './secrets.ts';
import {
  generatePassword,
  hashPassword,
  isPasswordHash,
  newApiKey,
  sameDigest,
  sha256Hex,
  verifyPassword,
} from './passwords.ts';

export const ROLES = ['viewer', 'operator', 'admin', 'ingest'] as const;
export type Role = (typeof ROLES)[number];
/** The ordered roles of people and reading machines; `ingest` is outside the order. */
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3, ingest: 0 };

export function roleAtLeast(have: Role, need: Role): boolean {
  // An ingest key may ingest and nothing else; nobody else holds the ingest role implicitly.
  if (have === 'ingest' || need === 'ingest') return have === need;
  return RANK[have] >= RANK[need];
}

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const USERNAME_RE = '^[A-Za-z0-9_.@-]{1,64}$';
export const UsersFileSchema = Type.Object(
  {
    users: Type.Array(
      Type.Object(
        { username: Type.String({ pattern: USERNAME_RE }), role: RoleSchema, password: Type.String() },
        { additionalProperties: false },
      ),
    ),
    apiKeys: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 64 }),
            role: RoleSchema,
            hash: Type.String({ pattern: '^sha256\\$[0-9a-f]{64}$' }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type UsersFile = Static<typeof UsersFileSchema>;
export type UserRecord = UsersFile['users'][number];
export type ApiKeyRecord = NonNullable<UsersFile['apiKeys']>[number];

export interface Principal {
  name: string;
  role: Role;
  via: 'session' | 'api_key';
}

export interface Session {
  token: string;
  principal: Principal;
  expiresAt: number;
}

export interface AccessControl {
  /** A new session for a correct username and password; undefined otherwise (or while throttled). */
  login(username: string, password: string): Promise<Session | undefined>;
  logout(token: string): void;
  fromSession(token: string): Principal | undefined;
  fromApiKey(key: string): Principal | undefined;
  /** Creates an API key; the plain key is returned once and only its hash is kept (and saved). */
  createApiKey(name: string, role: Role): Promise<{ key: string; name: string; role: Role }>;
  users(): Array<{ username: string; role: Role }>;
  apiKeys(): Array<{ name: string; role: Role }>;
  /** Where operator actions are recorded (the API's audit middleware writes to it). */
  audit: AuditLog;
}

export interface AccessOptions {
  users: UserRecord[];
  apiKeys?: ApiKeyRecord[];
  /** Idle lifetime of a session; 12 h by default (a control-room shift). */
  sessionTtlMs?: number;
  now?: () => number;
  /** Persists the users file after a change (API keys); absent in tests. */
  save?: (f: UsersFile) => Promise<void>;
  /** In memory unless given (setupAccess gives the audit file). */
  audit?: AuditLog;
}

/** Failed logins per username before it is throttled, and for how long. */
const MAX_FAILURES = 5;
const THROTTLE_MS = 60_000;

export function createAccessControl(o: AccessOptions): AccessControl {
  const now = o.now ?? Date.now;
  const ttl = o.sessionTtlMs ?? 12 * 3_600_000;
  const users = new Map(o.users.map((u) => [u.username, u]));
  const keys = [...(o.apiKeys ?? [])];
  // Keyed by the token's hash: the map never holds a usable secret.
  const sessions = new Map<string, { principal: Principal; expiresAt: number }>();
  const failures = new Map<string, { count: number; since: number }>();
  // A fixed hash to verify against for unknown users, so timing does not reveal which names exist.
  let dummy: Promise<string> | undefined;

  const sweep = (t: number): void => {
    for (const [k, s] of sessions) if (s.expiresAt <= t) sessions.delete(k);
  };

  return {
    async login(username, password) {
      const t = now();
      const f = failures.get(username);
      if (f && f.count >= MAX_FAILURES && t - f.since < THROTTLE_MS) return undefined;
      const u = users.get(username);
      dummy ??= hashPassword('not a password');
      const ok = u ? await verifyPassword(password, u.password) : (await verifyPassword(password, await dummy), false);
      if (!ok || !u) {
        // Guesses with ever new usernames must not grow the map without bound.
        if (failures.size > 10_000) for (const [k, v] of failures) if (t - v.since >= THROTTLE_MS) failures.delete(k);
        const prev = f && t - f.since < THROTTLE_MS ? f : { count: 0, since: t };
        failures.set(username, { count: prev.count + 1, since: prev.since });
        return undefined;
      }
      failures.delete(username);
      sweep(t);
      const token = randomBytes(32).toString('base64url');
      const principal: Principal = { name: u.username, role: u.role, via: 'session' };
      const expiresAt = t + ttl;
      sessions.set(sha256Hex(token), { principal, expiresAt });
      return { token, principal, expiresAt };
    },
    logout(token) {
      sessions.delete(sha256Hex(token));
    },
    fromSession(token) {
      const k = sha256Hex(token);
      const s = sessions.get(k);
      if (!s) return undefined;
      const t = now();
      if (s.expiresAt <= t) {
        sessions.delete(k);
        return undefined;
      }
      s.expiresAt = t + ttl; // sliding: an active console stays signed in
      return s.principal;
    },
    fromApiKey(key) {
      const h = `sha256$${sha256Hex(key)}`;
      const k = keys.find((x) => sameDigest(x.hash, h));
      return k ? { name: `key:${k.name}`, role: k.role, via: 'api_key' } : undefined;
    },
    async createApiKey(name, role) {
      const { key, hash } = newApiKey();
      keys.push({ name, role, hash });
      await o.save?.({ users: [...users.values()], apiKeys: keys });
      return { key, name, role };
    },
    users: () => [...users.values()].map((u) => ({ username: u.username, role: u.role })),
    apiKeys: () => keys.map((k) => ({ name: k.name, role: k.role })),
    audit: o.audit ?? memoryAuditLog({ now }),
  };
}

/** Reads and validates a users file; undefined when it does not exist. */
export async function loadUsersFile(path: string): Promise<UsersFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw new AuthError('E_AUTH_USERS_FILE', `users file ${path} is not readable: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AuthError('E_AUTH_USERS_FILE', `users file ${path} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const first = [...Value.Errors(UsersFileSchema, json)][0];
  if (first) throw new AuthError('E_AUTH_USERS_FILE', `users file ${path} ${first.path || '/'}: ${first.message}`);
  const f = json as UsersFile;
  f.users.forEach((u, i) => {
    if (!isPasswordHash(u.password))
      throw new AuthError(
        'E_AUTH_USERS_FILE',
        `users file ${path} /users/${i}/password: expected a scrypt hash (scrypt$N$r$p$salt$hash), not a plain password`,
      );
  });
  const seen = new Set<string>();
  f.users.forEach((u, i) => {
    if (seen.has(u.username))
      throw new AuthError('E_AUTH_USERS_FILE', `users file ${path} /users/${i}/username: ${u.username} appears twice`);
    seen.add(u.username);
  });
  return f;
}

/** Writes atomically, readable by the owner only (it holds hashes). */
export async function saveUsersFile(path: string, f: UsersFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(f, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Plain secrets given programmatically (tests, embedding); hashed before use. */
export interface AccessSeed {
  users?: Array<{ username: string; role: Role; password: string }>;
  apiKeys?: Array<{ name: string; role: Role; key: string }>;
}

export interface SetupAccessOptions {
  dataDir: string;
  env: Record<string, string | undefined>;
  /** Where the generated admin password is shown (once). */
  print: (line: string) => void;
  seed?: AccessSeed;
  sessionTtlMs?: number;
}

/**
 * Builds the access control of `retimuad run`: the users file, then RETIMUAD_ADMIN_PASSWORD (an
 * `admin` user, not written to disk), then `seed`. With nobody configured at all, an admin
 * password is generated, printed once, and its hash saved to the users file.
 */
export async function setupAccess(o: SetupAccessOptions): Promise<AccessControl> {
  const path = o.env['RETIMUAD_USERS_FILE'] ?? join(o.dataDir, 'users.json');
  const audit = await openAuditLog(o.env['RETIMUAD_AUDIT_FILE'] ?? join(o.dataDir, 'audit.jsonl'));
  const file = (await loadUsersFile(path)) ?? { users: [], apiKeys: [] };
  const users = new Map(file.users.map((u) => [u.username, u]));
  const apiKeys = [...(file.apiKeys ?? [])];
  // RETIMUAD_ADMIN_PASSWORD or RETIMUAD_ADMIN_PASSWORD_FILE (a mounted secret).
  const envPw = await readSecret(o.env, 'RETIMUAD_ADMIN_PASSWORD');
  if (envPw !== undefined) {
    users.set('admin', { username: 'admin', role: 'admin', password: await hashPassword(envPw) });
  }
  for (const u of o.seed?.users ?? [])
    users.set(u.username, { username: u.username, role: u.role, password: await hashPassword(u.password) });
  for (const k of o.seed?.apiKeys ?? [])
    apiKeys.push({ name: k.name, role: k.role, hash: `sha256$${sha256Hex(k.key)}` });
  // Only what came from the file (plus generated admin and new keys) is saved: env and seed secrets stay in memory.
  const persisted: UsersFile = { users: [...file.users], apiKeys: [...(file.apiKeys ?? [])] };
  if (users.size === 0) {
    const pw = generatePassword();
    const admin: UserRecord = { username: 'admin', role: 'admin', password: await hashPassword(pw) };
    users.set('admin', admin);
    persisted.users.push(admin);
    await saveUsersFile(path, persisted);
    o.print(`No users were configured: created user "admin" with the one-time password ${pw}`);
    o.print(`(only its hash is kept, in ${path}; set RETIMUAD_ADMIN_PASSWORD to choose your own)`);
  }
  return createAccessControl({
    users: [...users.values()],
    apiKeys,
    audit,
    ...(o.sessionTtlMs === undefined ? {} : { sessionTtlMs: o.sessionTtlMs }),
    save: async (f) => {
      // New API keys join what the file held; in-memory-only users are not written.
      const fileNames = new Set(persisted.users.map((u) => u.username));
      persisted.apiKeys = (f.apiKeys ?? []).filter(
        (k) => !(o.seed?.apiKeys ?? []).some((s) => `sha256$${sha256Hex(s.key)}` === k.hash),
      );
      persisted.users = f.users.filter((u) => fileNames.has(u.username));
      await saveUsersFile(path, persisted);
    },
  });
}
