/**
 * Retry with exponential back-off and "equal jitter" for the HTTP store sinks (InfluxDB,
 * Elasticsearch), plus secrets read from the environment or a file (never from the config).
 *
 * @example
 * const delay = backoffDelay({ initial_ms: 100, max_ms: 5000 }, 3, Math.random); // 400..800 ms
 * const token = readSecret({ env: 'INFLUXDB_TOKEN' }, 'influxdb sink tsdb'); // undefined if unset
 */
import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import type { DeadLetter } from '../../runtime/types.ts';

export interface BackoffParams {
  initial_ms: number;
  max_ms: number;
}

/** Half the exponential delay fixed, half random: retries of many writers spread out, none waits 0. */
export function backoffDelay(p: BackoffParams, retry: number, random: () => number): number {
  const exp = Math.min(p.max_ms, p.initial_ms * 2 ** retry);
  return Math.min(p.max_ms, exp / 2 + (random() * exp) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts (shutdown must not wait out a back-off). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** HTTP statuses worth retrying: the server is busy or broken, the request itself may be fine. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A fetch failure as one line: "fetch failed (ECONNREFUSED connect ECONNREFUSED 127.0.0.1:8086)". */
export function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: unknown; message?: unknown } };
  if (e.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const c = e.cause;
  const code = typeof c?.code === 'string' ? c.code : '';
  const msg = typeof c?.message === 'string' ? c.message : '';
  const detail = [code, msg].filter(Boolean).join(' ');
  return detail ? `${e.message} (${detail})` : e.message;
}

/**
 * Reads a secret named by config: `env` (a variable name) wins over `file` (a path whose content,
 * trimmed, is the secret, as Docker/Kubernetes secrets are mounted). Returns undefined when neither
 * is configured; throws naming the variable or file when one is configured but empty or unreadable.
 */
export function readSecret(
  src: { env?: string | undefined; file?: string | undefined },
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (src.env !== undefined) {
    const v = env[src.env];
    if (v !== undefined && v !== '') return v;
    if (src.file === undefined) throw new Error(`${where}: environment variable ${src.env} is not set or empty`);
  }
  if (src.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(src.file, 'utf8');
    } catch (err) {
      throw new Error(`${where}: cannot read secret file ${src.file}: ${(err as Error).message}`, { cause: err });
    }
    const v = text.trim();
    if (v === '') throw new Error(`${where}: secret file ${src.file} is empty`);
    return v;
  }
  return undefined;
}

/**
 * A dead-letter handler that appends one JSON line per refused record to `file` (the pipeline's
 * `deadletters.jsonl`), so what a store refused sits beside what validation refused.
 */
export function appendDeadLetterTo(file: string): (dl: DeadLetter) => Promise<void> {
  return (dl) => appendFile(file, `${JSON.stringify(dl)}\n`);
}
