/**
 * A durable outbox for the network sinks (InfluxDB, Elasticsearch/OpenSearch, webhook): `write()`
 * only queues, a background deliverer sends in order, and what cannot be sent now waits on disk.
 *
 * - Memory is bounded: at most `buffer_max_events` items wait in memory (plus the items being
 *   sent, at most `deliverMaxEvents`: consecutive chunks go out in one call to catch up faster). Past that, the oldest waiting chunks are spilled to disk. While the server is down
 *   (the last attempt failed) every waiting chunk is spilled, so an outage holds nothing in RAM
 *   and a crash during it loses nothing that `write()` had accepted.
 * - Disk: append-only segment files `seg-<seq>.log` under `spill_dir`, each record
 *   `u32le length | u32le crc32 | JSON`; a segment is deleted once every chunk in it is delivered.
 *   fsync policy: with `spill_fsync` (default) the data is fdatasync'ed before the `write()` that
 *   spilled it resolves, so an acknowledged spill survives a power cut; a torn tail (crash in the
 *   middle of an append) fails its length/CRC check at restart and is skipped and counted.
 * - Order: chunks form one queue `[on disk…][in memory…]`: spilling always converts the oldest
 *   in-memory chunks, so file order is queue order, also after a restart.
 * - Retries: forever (until close), exponential back-off with equal jitter up to
 *   `retry_max_backoff_ms`. An error the sink calls permanent (`permanent(err)` gives a reason)
 *   sends the chunk to the dead letters instead. Nothing else is dropped, except when the spill
 *   budget (`max_spill_bytes`) or the disk is full: then the chunk goes to the dead letters with
 *   that reason and `dropped` counts it.
 * - Delivery is exactly once and in order within a process; after a restart, the chunks of a
 *   segment that was only partly acknowledged are sent again (at least once), which the stores
 *   absorb: InfluxDB overwrites a point with the same series and time, Elasticsearch documents
 *   have stable `_id`s, the webhook skips incident revisions it already sent.
 * - close(): waits up to `drain_timeout_ms` for the queue to empty (not at all while the server
 *   is down), then stops the deliverer and spills what is left; the next start resumes it.
 *
 * @example
 * const box = await openOutbox({ ...defaults, spill_dir: 'data/spill/influx' }, { id: 'influx', logger, deliver: (xs) => post(xs) });
 * await box.write(records); // queued (memory or disk), delivered in the background
 * await box.close();        // drained, or spilled for the next start
 */
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ComponentMetrics } from '../runtime/types.ts';
import { backoffDelay, sleep } from './influxdb/retry.ts';

/** The outbox options every buffered sink adds to its own parameters (units in the names). */
export const OutboxParamProps = {
  spill_dir: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Directory for the durable outbox (spilled segments). Set: write() only queues, delivery runs in the background with retries forever, spilling to disk when memory is full or the server is down. Unset: each write waits for delivery and fails after max_retries.',
    }),
  ),
  buffer_max_events: Type.Integer({
    minimum: 1,
    default: 10_000,
    description: 'Outbox: records held in memory at most before the oldest are spilled to disk.',
  }),
  max_spill_bytes: Type.Integer({
    minimum: 1024,
    default: 1_073_741_824,
    description:
      'Outbox: disk budget of the spilled segments; past it, records go to the dead letters (reason spill_full).',
  }),
  retry_initial_backoff_ms: Type.Integer({
    minimum: 0,
    default: 500,
    description: 'Outbox: delay before retrying a failed delivery; doubles each retry (equal jitter).',
  }),
  retry_max_backoff_ms: Type.Integer({
    minimum: 1,
    default: 10_000,
    description: 'Outbox: upper bound of one retry delay (how late delivery resumes after the server returns).',
  }),
  drain_timeout_ms: Type.Integer({
    minimum: 0,
    default: 10_000,
    description: 'Outbox: how long close() waits for the queue to empty before spilling the rest for the next start.',
  }),
  spill_fsync: Type.Boolean({
    default: true,
    description:
      'Outbox: fdatasync each spill before write() resolves (survives power loss; costs one sync per spill).',
  }),
};
export const OutboxParamsSchema = Type.Object({ ...OutboxParamProps, spill_dir: Type.String({ minLength: 1 }) });
export type OutboxParams = Static<typeof OutboxParamsSchema>;

export type OutboxErrorCode = 'E_OUTBOX_CLOSED' | 'E_OUTBOX_IO';

export class OutboxError extends Error {
  override readonly name = 'OutboxError';
  constructor(
    readonly code: OutboxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface OutboxStats {
  /** Items waiting in memory now, and the most ever. */
  buffered: number;
  maxBuffered: number;
  /** Items waiting on disk now, bytes of live segments now, and bytes ever spilled. */
  spilledEvents: number;
  spilledBytes: number;
  spilledBytesTotal: number;
  segments: number;
  retries: number;
  delivered: number;
  /** Items sent to the dead letters: refused for good by the server, or spill budget/disk full. */
  deadLettered: number;
  /** Of those, the ones lost to a full spill budget or disk (0 unless the disk is full). */
  dropped: number;
  /** Torn or corrupt records skipped when reading segments (crash in the middle of an append). */
  tornRecords: number;
  tornBytes: number;
  /** Items recovered from segments at start. */
  recovered: number;
}

export interface OutboxDeps<T> {
  id: string;
  logger: Logger;
  /** Sends items in order; throws when they were not (all) accepted. May be called again with the same items. */
  deliver: (items: T[]) => Promise<void>;
  /** A reason when `err` means "will never succeed" (the items go to the dead letters), else undefined (retry). */
  permanent?: (err: unknown) => string | undefined;
  /** Where dead-lettered items go, with the reason. */
  onDeadLetter?: (items: readonly T[], reason: string) => void | Promise<void>;
  /** Called when close() gives up waiting: abort the delivery in flight. */
  abortDelivery?: () => void;
  metrics?: ComponentMetrics;
  /** Where to export the outbox gauges and counters (`retimuad_outbox_*{component}`), e.g. the runtime's registry. */
  registry?: Registry;
  random?: () => number;
  /** Items per chunk (one delivery call); default min(1000, buffer_max_events). */
  chunkMaxEvents?: number;
  /** Items per delivery call, consecutive chunks joined (default: one chunk). Memory may hold this many more than buffer_max_events while they are sent. */
  deliverMaxEvents?: number;
  /** Bytes after which a new segment file is started; default 16 MiB. */
  segmentMaxBytes?: number;
}

export interface Outbox<T> {
  /** Queues items (memory or disk); resolves once they are held (and, when spilled, synced). */
  write(items: readonly T[]): Promise<void>;
  /** Resolves when nothing waits (everything delivered or dead-lettered). */
  idle(): Promise<void>;
  stats(): OutboxStats;
  close(): Promise<void>;
}

interface Chunk<T> {
  count: number;
  /** In memory while set; undefined once spilled. */
  items: T[] | undefined;
  disk: { seq: number; offset: number; length: number } | undefined;
  /** Merging more items into it is no longer allowed (being sent or spilled). */
  sealed: boolean;
  inflight: boolean;
}

interface Segment {
  seq: number;
  path: string;
  bytes: number;
  /** Chunks still referencing it. */
  live: number;
}

const HEADER = 8;
const SEGMENT_RE = /^seg-(\d{16})\.log$/;

/** Encodes items as `u32le length | u32le crc32 | JSON` records. */
export function encodeRecords(items: readonly unknown[]): Buffer {
  const parts: Buffer[] = [];
  for (const it of items) {
    const payload = Buffer.from(JSON.stringify(it), 'utf8');
    const head = Buffer.allocUnsafe(HEADER);
    head.writeUInt32LE(payload.length, 0);
    head.writeUInt32LE(crc32(payload), 4);
    parts.push(head, payload);
  }
  return Buffer.concat(parts);
}

/**
 * Decodes records from `buf`; stops at the first record whose header is cut short, whose length
 * runs past the end, whose CRC or JSON is wrong. Returns the items with their end offsets, and
 * where the valid part ends.
 */
export function decodeRecords(buf: Buffer): { items: unknown[]; ends: number[]; validBytes: number } {
  const items: unknown[] = [];
  const ends: number[] = [];
  let off = 0;
  while (off + HEADER <= buf.length) {
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    const end = off + HEADER + len;
    if (end > buf.length) break;
    const payload = buf.subarray(off + HEADER, end);
    if (crc32(payload) !== crc) break;
    try {
      items.push(JSON.parse(payload.toString('utf8')));
    } catch {
      break;
    }
    off = end;
    ends.push(end);
  }
  return { items, ends, validBytes: off };
}

/**
 * The options of a buffered sink with its spill_dir resolved by `dataPath` (relative to the data
 * directory), `spill/<id>` when unset: what the registry passes so the outbox is on by default.
 */
export function withSpillDir(
  id: string,
  options: Readonly<Record<string, unknown>>,
  dataPath: (p: string) => string,
): Record<string, unknown> {
  const dir = typeof options['spill_dir'] === 'string' ? options['spill_dir'] : `spill/${id}`;
  return { ...options, spill_dir: dataPath(dir) };
}

/** Per registry, the stats of every outbox exported to it (read when Prometheus scrapes). */
const exported = new WeakMap<Registry, Map<string, () => OutboxStats>>();

/** Registers `retimuad_outbox_*` once per registry; each outbox adds its stats under its component id. */
export function exportOutboxMetrics(registry: Registry, id: string, stats: () => OutboxStats): void {
  let sources = exported.get(registry);
  if (sources === undefined) {
    const src = new Map<string, () => OutboxStats>();
    sources = src;
    exported.set(registry, src);
    const gauge = (name: string, help: string, pick: (s: OutboxStats) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['component'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [c, f] of src) this.set({ component: c }, pick(f()));
        },
      });
    };
    const counter = (name: string, help: string, pick: (s: OutboxStats) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['component'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [c, f] of src) this.inc({ component: c }, pick(f()));
        },
      });
    };
    gauge('retimuad_outbox_buffered_events', 'Records waiting in the outbox memory', (s) => s.buffered);
    gauge('retimuad_outbox_spilled_events', 'Records waiting on disk in spilled segments', (s) => s.spilledEvents);
    gauge('retimuad_outbox_spilled_bytes', 'Bytes of spilled segments on disk', (s) => s.spilledBytes);
    counter('retimuad_outbox_retries_total', 'Failed deliveries retried', (s) => s.retries);
    counter('retimuad_outbox_delivered_total', 'Records the server acknowledged', (s) => s.delivered);
    counter('retimuad_outbox_dead_lettered_total', 'Records sent to the dead letters', (s) => s.deadLettered);
    counter('retimuad_outbox_dropped_total', 'Records lost to a full spill budget or disk', (s) => s.dropped);
    counter('retimuad_outbox_torn_records_total', 'Torn or corrupt spilled records skipped', (s) => s.tornRecords);
  }
  sources.set(id, stats);
}

export async function openOutbox<T>(params: OutboxParams, deps: OutboxDeps<T>): Promise<Outbox<T>> {
  const log = deps.logger;
  const random = deps.random ?? Math.random;
  const chunkMax = Math.max(1, deps.chunkMaxEvents ?? Math.min(1000, params.buffer_max_events));
  const segmentMax = deps.segmentMaxBytes ?? 16 * 1024 * 1024;
  const deliverMax = Math.max(chunkMax, deps.deliverMaxEvents ?? chunkMax);
  const dir = params.spill_dir;
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new OutboxError(
      'E_OUTBOX_IO',
      `outbox ${deps.id}: cannot create spill_dir ${dir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }

  const chunks: Chunk<T>[] = [];
  const segments = new Map<number, Segment>();
  let active: { seg: Segment; fh: FileHandle } | undefined;
  let nextSeq = 0;
  const st: OutboxStats = {
    buffered: 0,
    maxBuffered: 0,
    spilledEvents: 0,
    spilledBytes: 0,
    spilledBytesTotal: 0,
    segments: 0,
    retries: 0,
    delivered: 0,
    deadLettered: 0,
    dropped: 0,
    tornRecords: 0,
    tornBytes: 0,
    recovered: 0,
  };
  let failures = 0;
  let closed = false;
  let stopping = false;
  const stop = new AbortController();

  // --- recovery: every segment left by an earlier run, in sequence order, re-chunked.
  const names = (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
  for (const name of names) {
    const seq = Number(SEGMENT_RE.exec(name)?.[1]);
    const path = join(dir, name);
    const buf = await readFile(path);
    const { ends, validBytes } = decodeRecords(buf);
    if (validBytes < buf.length) {
      st.tornRecords++;
      st.tornBytes += buf.length - validBytes;
      log.warn(
        { segment: path, validBytes, tornBytes: buf.length - validBytes },
        'outbox segment has a torn or corrupt tail (crash during a spill); skipped it',
      );
    }
    nextSeq = Math.max(nextSeq, seq + 1);
    if (ends.length === 0) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    const seg: Segment = { seq, path, bytes: validBytes, live: 0 };
    segments.set(seq, seg);
    let start = 0;
    for (let i = 0; i < ends.length; i += chunkMax) {
      const last = Math.min(ends.length, i + chunkMax) - 1;
      const end = ends[last] ?? validBytes;
      const count = last - i + 1;
      chunks.push({
        count,
        items: undefined,
        disk: { seq, offset: start, length: end - start },
        sealed: true,
        inflight: false,
      });
      seg.live++;
      st.spilledEvents += count;
      st.recovered += count;
      start = end;
    }
  }
  refreshDiskStats();
  if (st.recovered > 0)
    log.info(
      { events: st.recovered, segments: segments.size, dir },
      'outbox resumes spilled records from an earlier run',
    );

  function refreshDiskStats(): void {
    let bytes = 0;
    for (const s of segments.values()) bytes += s.bytes;
    st.spilledBytes = bytes;
    st.segments = segments.size;
  }

  // One lock orders every file operation and every change of a chunk between memory and disk.
  let lockTail: Promise<unknown> = Promise.resolve();
  function locked<R>(fn: () => Promise<R>): Promise<R> {
    const r = lockTail.then(fn);
    lockTail = r.catch(() => undefined);
    return r;
  }

  async function appendToSegment(buf: Buffer): Promise<{ seq: number; offset: number }> {
    if (active && active.seg.bytes + buf.length > segmentMax && active.seg.bytes > 0) {
      await active.fh.close();
      active = undefined;
    }
    if (!active) {
      const seq = nextSeq++;
      const path = join(dir, `seg-${String(seq).padStart(16, '0')}.log`);
      const fh = await open(path, 'a');
      const seg: Segment = { seq, path, bytes: 0, live: 0 };
      segments.set(seq, seg);
      active = { seg, fh };
    }
    const { seg, fh } = active;
    const offset = seg.bytes;
    try {
      await fh.write(buf, 0, buf.length, null);
      if (params.spill_fsync) await fh.datasync();
    } catch (err) {
      // Leave no half record behind for the next append to follow.
      await fh.truncate(offset).catch(() => undefined);
      throw err;
    }
    seg.bytes += buf.length;
    return { seq: seg.seq, offset };
  }

  async function releaseSegment(seq: number): Promise<void> {
    const seg = segments.get(seq);
    if (!seg) return;
    seg.live--;
    if (seg.live > 0) return;
    if (active?.seg === seg) {
      await active.fh.close();
      active = undefined;
    }
    segments.delete(seq);
    await unlink(seg.path).catch((err: unknown) =>
      log.warn({ segment: seg.path, problem: (err as Error).message }, 'outbox cannot delete a delivered segment'),
    );
  }

  async function deadLetter(items: readonly T[], reason: string, lost: boolean): Promise<void> {
    st.deadLettered += items.length;
    if (lost) st.dropped += items.length;
    deps.metrics?.discarded(lost ? 'spill_full' : 'rejected', items.length);
    log.error({ events: items.length, reason }, 'outbox sent records to the dead letters');
    try {
      await deps.onDeadLetter?.(items, reason);
    } catch (err) {
      log.error({ problem: (err as Error).message }, 'outbox could not write dead letters');
    }
  }

  /** Spills the oldest in-memory chunks (all when `all`, else until at most buffer_max_events wait). */
  function spill(all: boolean): Promise<void> {
    return locked(async () => {
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i];
        if (c === undefined || c.items === undefined) continue;
        if (!all && st.buffered <= params.buffer_max_events) return;
        c.sealed = true;
        const items = c.items;
        const buf = encodeRecords(items);
        let problem: string | undefined;
        if (st.spilledBytes + buf.length > params.max_spill_bytes)
          problem = `spill_full: max_spill_bytes ${params.max_spill_bytes} reached in ${dir}`;
        else {
          try {
            const at = await appendToSegment(buf);
            c.disk = { seq: at.seq, offset: at.offset, length: buf.length };
            const seg = segments.get(at.seq);
            if (seg) seg.live++;
            c.items = undefined;
            st.buffered -= c.count;
            st.spilledEvents += c.count;
            st.spilledBytesTotal += buf.length;
            refreshDiskStats();
            continue;
          } catch (err) {
            problem = `spill_failed: cannot append to ${dir}: ${(err as Error).message}`;
          }
        }
        // Cannot hold it on disk. A chunk being sent stays in memory (and ends the spill, to keep
        // the queue order); any other goes to the dead letters so memory stays bounded.
        if (c.inflight) return;
        chunks.splice(i, 1);
        i--;
        st.buffered -= c.count;
        await deadLetter(items, problem, true);
      }
    });
  }

  // --- the deliverer
  let wake: (() => void) | undefined;
  let idleWaiters: Array<() => void> = [];
  function kick(): void {
    const w = wake;
    wake = undefined;
    w?.();
  }
  function checkIdle(): void {
    if (chunks.length > 0) return;
    const ws = idleWaiters;
    idleWaiters = [];
    for (const w of ws) w();
  }

  async function readChunk(c: Chunk<T>): Promise<T[]> {
    const d = c.disk;
    const seg = d === undefined ? undefined : segments.get(d.seq);
    if (d === undefined || seg === undefined) return [];
    const fh = await open(seg.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(d.length);
      const { bytesRead } = await fh.read(buf, 0, d.length, d.offset);
      const { items, validBytes } = decodeRecords(buf.subarray(0, bytesRead));
      if (validBytes < d.length) {
        st.tornRecords++;
        st.tornBytes += d.length - validBytes;
        log.error(
          { segment: seg.path, offset: d.offset + validBytes },
          'outbox segment corrupt; skipped the rest of the chunk',
        );
      }
      return items as T[];
    } finally {
      await fh.close();
    }
  }

  async function run(): Promise<void> {
    let attempt = 0;
    while (!stopping) {
      if (chunks.length === 0) {
        checkIdle();
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      // Consecutive chunks go out together up to deliverMax items (bigger requests catch up
      // faster after an outage); chosen and marked before any await, so nothing removes them.
      const batch: Chunk<T>[] = [];
      let n = 0;
      for (const c of chunks) {
        if (batch.length > 0 && n + c.count > deliverMax) break;
        c.sealed = true;
        c.inflight = true;
        batch.push(c);
        n += c.count;
      }
      let items: T[] = [];
      try {
        for (const c of batch) {
          const part = c.items ?? (await locked(() => readChunk(c)));
          items = items.length === 0 ? part.slice() : items.concat(part);
        }
      } catch (err) {
        for (const c of batch) c.inflight = false;
        log.error({ problem: (err as Error).message }, 'outbox cannot read a spilled chunk; retrying');
        await sleep(
          backoffDelay(
            { initial_ms: params.retry_initial_backoff_ms, max_ms: params.retry_max_backoff_ms },
            attempt++,
            random,
          ),
          stop.signal,
        );
        continue;
      }
      let failed: unknown;
      let ok = false;
      try {
        if (items.length > 0) await deps.deliver(items);
        ok = true;
      } catch (err) {
        failed = err;
      }
      for (const c of batch) c.inflight = false;
      const reason = ok ? undefined : deps.permanent?.(failed);
      if (ok || reason !== undefined) {
        // Under the lock: a spill of these very chunks may be under way and must finish first.
        await locked(async () => {
          for (const c of batch) {
            const at = chunks.indexOf(c);
            if (at >= 0) chunks.splice(at, 1);
            if (c.items !== undefined) st.buffered -= c.count;
            else st.spilledEvents -= c.count;
            if (c.disk !== undefined) await releaseSegment(c.disk.seq);
          }
          refreshDiskStats();
        });
        if (ok) {
          st.delivered += items.length;
          if (failures > 0) log.info({ afterFailures: failures, waiting: chunks.length }, 'outbox delivering again');
          failures = 0;
          attempt = 0;
        } else await deadLetter(items, reason ?? '', false);
        continue;
      }
      if (stopping) break;
      st.retries++;
      failures++;
      const delay = backoffDelay(
        { initial_ms: params.retry_initial_backoff_ms, max_ms: params.retry_max_backoff_ms },
        attempt++,
        random,
      );
      if (failures === 1 || failures % 10 === 0)
        log.warn(
          {
            failures,
            delayMs: Math.round(delay),
            waiting: st.buffered + st.spilledEvents,
            problem: (failed as Error)?.message,
          },
          'outbox delivery failed; spilling to disk and retrying',
        );
      // The server is down: hold nothing in memory while it is.
      await spill(true);
      await sleep(delay, stop.signal);
    }
  }
  if (deps.registry !== undefined) exportOutboxMetrics(deps.registry, deps.id, () => ({ ...st }));
  const loop = run().catch((err: unknown) => log.error({ err }, 'outbox deliverer stopped unexpectedly'));

  return {
    async write(input) {
      if (closed) throw new OutboxError('E_OUTBOX_CLOSED', `outbox ${deps.id} is closed`);
      if (input.length === 0) return;
      for (let i = 0; i < input.length;) {
        const tail = chunks.at(-1);
        if (tail !== undefined && tail.items !== undefined && !tail.sealed && tail.count < chunkMax) {
          const take = Math.min(chunkMax - tail.count, input.length - i);
          for (let k = 0; k < take; k++) tail.items.push(input[i + k] as T);
          tail.count += take;
          i += take;
          st.buffered += take;
        } else {
          const take = Math.min(chunkMax, input.length - i);
          chunks.push({
            count: take,
            items: input.slice(i, i + take),
            disk: undefined,
            sealed: false,
            inflight: false,
          });
          i += take;
          st.buffered += take;
        }
      }
      st.maxBuffered = Math.max(st.maxBuffered, st.buffered);
      kick();
      if (failures > 0 || st.buffered > params.buffer_max_events) await spill(failures > 0);
    },
    idle() {
      if (chunks.length === 0) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },
    stats: () => ({ ...st }),
    async close() {
      if (closed) return;
      closed = true;
      if (failures === 0 && chunks.length > 0 && params.drain_timeout_ms > 0) {
        const t = new AbortController();
        await Promise.race([new Promise<void>((r) => idleWaiters.push(r)), sleep(params.drain_timeout_ms, t.signal)]);
        t.abort();
      }
      stopping = true;
      stop.abort();
      deps.abortDelivery?.();
      kick();
      await loop;
      await spill(true);
      await locked(async () => {
        if (active) await active.fh.close();
        active = undefined;
      });
      const waiting = st.buffered + st.spilledEvents;
      if (waiting > 0)
        log.info({ events: waiting, dir }, 'outbox closed with records on disk; the next start delivers them');
      const ws = idleWaiters;
      idleWaiters = [];
      for (const w of ws) w();
    },
  };
}

/**
 * The write/close pair of a sink fronted by an outbox: records are encoded into the outbox's
 * items, writes after close are refused with the sink's own error, and close drains (or spills)
 * the outbox before `onClosed` (e.g. aborting in-flight requests).
 */
export function outboxWriter<R, T>(
  outbox: Outbox<T>,
  encode: (batch: readonly R[]) => T[],
  closedError: () => Error,
  onClosed: () => void,
): { write(batch: readonly R[]): Promise<void>; close(): Promise<void> } {
  let closed = false;
  return {
    write(batch) {
      if (closed) return Promise.reject(closedError());
      return outbox.write(encode(batch));
    },
    async close() {
      if (closed) return;
      closed = true;
      await outbox.close();
      onClosed();
    },
  };
}
