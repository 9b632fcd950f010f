/**
 * Runs drain3 (logpai/Drain3, PyPI) as the reference log template miner, through
 * tests/reference/drain3_ref.py. Test and bench code only: it spawns python3.
 *
 * @example
 * const { ids, seconds } = runDrain3({ messages: ['a 1', 'a 2'] });
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DRAIN3_SCRIPT = fileURLToPath(new URL('./drain3_ref.py', import.meta.url));
const INSTALL_HINT =
  'The drain3 reference checks need python3 with drain3: run `pip install -r tests/reference/requirements.txt` ' +
  '(python3 must be on PATH, or set RETIMU_PYTHON to the interpreter).';

export interface Drain3Request {
  messages: readonly string[];
  config?: { sim_th?: number; depth?: number; max_children?: number; max_clusters?: number };
  /** drain3's example masking (IP, HEX, NUM, ...); default true. */
  masking?: boolean;
  /** Passes over the messages, each with a fresh miner; the fastest is reported. Default 1. */
  reps?: number;
}

export interface Drain3Result {
  /** drain3 cluster id per message. */
  ids: number[];
  templates: Record<string, string>;
  /** CPU seconds (process_time) in drain3's add_log_message loop only; the least over `reps` passes. */
  seconds: number;
  /** Wall seconds of that pass. */
  wall_seconds: number;
  lines: number;
  drain3: string;
}

export class Drain3UnavailableError extends Error {
  readonly code = 'E_DRAIN3_UNAVAILABLE';
}

/** Runs drain3 on a list of messages. Throws Drain3UnavailableError (never skips) when python3 or drain3 is missing. */
export function runDrain3(req: Drain3Request, opts: { python?: string } = {}): Drain3Result {
  const python = opts.python ?? process.env.RETIMU_PYTHON ?? 'python3';
  const res = spawnSync(python, [DRAIN3_SCRIPT], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (res.error) {
    throw new Drain3UnavailableError(`cannot run ${python} (${res.error.message}). ${INSTALL_HINT}`, {
      cause: res.error,
    });
  }
  if (res.status === 3) throw new Drain3UnavailableError(`${res.stderr.trim()}. ${INSTALL_HINT}`);
  if (res.status !== 0)
    throw new Error(`drain3_ref.py failed (exit ${res.status ?? res.signal}): ${res.stderr.slice(-2000)}`);
  return JSON.parse(res.stdout) as Drain3Result;
}
