/**
 * The audit log of operator actions: who did what, to what, when, from where and with which
 * outcome. Every mutating API request (sign-in and out, API key creation, incident actions, and
 * any route added later) is recorded by one middleware, so no route can forget it. Records are
 * appended to a JSON-lines file (`<data_dir>/audit.jsonl`, mode 0600) and chained by SHA-256
 * (`hash` = sha256(prev hash + record)), so an edited or deleted line is detectable; the latest
 * `capacity` records stay in memory for `GET /api/audit`.
 *
 * @example
 * const audit = await openAuditLog('data/audit.jsonl');
 * await audit.record({ actor: 'olga', action: 'POST /api/incidents/:id/actions', target: 'inc-1', outcome: 'ok' });
 * audit.query({ limit: 50, actor: 'olga' }); // newest first
 * await verifyAuditFile('data/audit.jsonl'); // { records: 1, ok: true }
 */
import { createHash } from 'node:crypto';
import { appendFile, chmod, readFile } from 'node:fs/promises';
import { AuthError } from './errors.ts';

export type AuditOutcome = 'ok' | 'denied' | 'failed';

export interface AuditInput {
  actor: string;
  role?: string;
  /** `METHOD /route/pattern`, or a named action such as `sign-in`. */
  action: string;
  target?: string;
  outcome: AuditOutcome;
  status?: number;
  remote?: string;
  detail?: string;
}

export interface AuditRecord extends AuditInput {
  seq: number;
  /** Epoch ms. */
  time: number;
  prev: string;
  hash: string;
}

export interface AuditQuery {
  limit: number;
  actor?: string;
  action?: string;
  outcome?: AuditOutcome;
  from?: number;
  to?: number;
}

export interface AuditLog {
  record(e: AuditInput): Promise<AuditRecord>;
  /** Newest first. */
  query(q: AuditQuery): AuditRecord[];
}

export interface AuditOptions {
  now?: () => number;
  /** Records kept in memory for queries; the file keeps them all. */
  capacity?: number;
}

const GENESIS = '0'.repeat(64);

function chainHash(prev: string, r: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(prev).update(JSON.stringify(r)).digest('hex');
}

function build(
  append: ((line: string) => Promise<void>) | undefined,
  start: { seq: number; prev: string; recent: AuditRecord[] },
  o: AuditOptions,
): AuditLog {
  const now = o.now ?? Date.now;
  const capacity = o.capacity ?? 10_000;
  const recent = start.recent.slice(-capacity);
  let seq = start.seq;
  let prev = start.prev;
  // Appends are serialised so the file's order is the chain's order.
  let tail: Promise<void> = Promise.resolve();
  return {
    record(e) {
      const base: Omit<AuditRecord, 'hash'> = { seq: ++seq, time: now(), ...e, prev };
      const rec: AuditRecord = { ...base, hash: chainHash(prev, base) };
      prev = rec.hash;
      recent.push(rec);
      if (recent.length > capacity) recent.splice(0, recent.length - capacity);
      if (append === undefined) return Promise.resolve(rec);
      const write = tail.then(() => append(`${JSON.stringify(rec)}\n`));
      tail = write.catch(() => undefined);
      return write.then(() => rec);
    },
    query(q) {
      const out: AuditRecord[] = [];
      for (let i = recent.length - 1; i >= 0 && out.length < q.limit; i--) {
        const r = recent[i]!;
        if (q.actor !== undefined && r.actor !== q.actor) continue;
        if (q.action !== undefined && r.action !== q.action) continue;
        if (q.outcome !== undefined && r.outcome !== q.outcome) continue;
        if (q.from !== undefined && r.time < q.from) continue;
        if (q.to !== undefined && r.time >= q.to) continue;
        out.push(r);
      }
      return out;
    },
  };
}

/** An audit log kept only in memory (tests, servers without a data directory). */
export function memoryAuditLog(o: AuditOptions = {}): AuditLog {
  return build(undefined, { seq: 0, prev: GENESIS, recent: [] }, o);
}

async function readRecords(path: string): Promise<AuditRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw new AuthError('E_AUTH_AUDIT', `audit log ${path} is not readable: ${(err as Error).message}`, { cause: err });
  }
  const out: AuditRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    try {
      out.push(JSON.parse(line) as AuditRecord);
    } catch (err) {
      throw new AuthError('E_AUTH_AUDIT', `audit log ${path}:${i + 1}: not JSON`, { cause: err });
    }
  });
  return out;
}

/** Opens (or creates) the audit file and continues its chain. */
export async function openAuditLog(path: string, o: AuditOptions = {}): Promise<AuditLog> {
  const existing = await readRecords(path);
  const last = existing.at(-1);
  let created = false;
  return build(
    async (line) => {
      await appendFile(path, line, { mode: 0o600 });
      if (!created) {
        created = true;
        await chmod(path, 0o600);
      }
    },
    { seq: last?.seq ?? 0, prev: last?.hash ?? GENESIS, recent: existing },
    o,
  );
}

/** Recomputes the chain of an audit file; the first broken line is named. */
export async function verifyAuditFile(
  path: string,
): Promise<{ records: number; ok: true } | { records: number; ok: false; brokenAt: number }> {
  const recs = await readRecords(path);
  let prev = GENESIS;
  for (let i = 0; i < recs.length; i++) {
    const { hash, ...rest } = recs[i]!;
    if (rest.prev !== prev || chainHash(prev, rest) !== hash)
      return { records: recs.length, ok: false, brokenAt: i + 1 };
    prev = hash;
  }
  return { records: recs.length, ok: true };
}
