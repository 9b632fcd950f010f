/**
 * Query-parameter parsing for the HTTP API. Every failure is an ApiError (status 400,
 * code `bad_param`) whose message names the parameter and what was expected.
 *
 * @example
 * const q = new QueryParams(c.req.query(), ['asset', 'limit']);
 * const limit = q.int('limit', { min: 1, max: 5000, default: 200 });
 */

export type ApiStatus = 400 | 401 | 403 | 404 | 415 | 429 | 500 | 503;

/** An error the API turns into a JSON response: `{ error: { code, message, param? } }`. */
export class ApiError extends Error {
  readonly status: ApiStatus;
  readonly code: string;
  readonly param?: string;
  constructor(status: ApiStatus, code: string, message: string, param?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    if (param !== undefined) this.param = param;
  }
}

/** Same rule as names in the event schema: site, asset, metric. */
const NAME_RE = /^[A-Za-z0-9_.:/-]{1,128}$/;
export const SHA256_RE = /^[0-9a-f]{64}$/;
/** Ids: printable, bounded (as in the event schema). */
const ID_RE = /^[^\u0000-\u001f]{1,200}$/;

function bad(param: string, message: string): ApiError {
  return new ApiError(400, 'bad_param', `query parameter "${param}": ${message}`, param);
}

function show(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
}

/** Checks a path id; throws a 400 naming the segment. */
export function checkId(name: string, v: string): string {
  if (!ID_RE.test(v))
    throw new ApiError(400, 'bad_param', `path parameter "${name}": expected 1-200 printable characters`, name);
  return v;
}

export class QueryParams {
  private readonly raw: Record<string, string>;

  /** Rejects parameters the route does not know, so a typo (`form=`) is not silently ignored. */
  constructor(raw: Record<string, string>, allowed: readonly string[]) {
    this.raw = raw;
    for (const k of Object.keys(raw)) {
      if (!allowed.includes(k)) {
        throw bad(k, `unknown parameter; this route accepts ${allowed.length ? allowed.join(', ') : 'none'}`);
      }
    }
  }

  private get(name: string): string | undefined {
    const v = this.raw[name];
    return v === undefined || v === '' ? undefined : v;
  }

  name(name: string): string | undefined {
    const v = this.get(name);
    if (v !== undefined && !NAME_RE.test(v))
      throw bad(name, `expected a name of letters, digits and _ . : / - (at most 128), got ${show(v)}`);
    return v;
  }

  requiredName(name: string): string {
    const v = this.name(name);
    if (v === undefined) throw bad(name, 'is required');
    return v;
  }

  text(name: string, maxLength: number): string | undefined {
    const v = this.get(name);
    if (v !== undefined && v.length > maxLength)
      throw bad(name, `expected at most ${maxLength} characters, got ${v.length}`);
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v))
      throw bad(name, `expected one of ${values.join(', ')}, got ${show(v)}`);
    return v as T;
  }

  int(name: string, o: { min: number; max: number; default: number }): number {
    const v = this.get(name);
    if (v === undefined) return o.default;
    if (!/^-?\d{1,15}$/.test(v)) throw bad(name, `expected an integer, got ${show(v)}`);
    const n = Number(v);
    if (n < o.min || n > o.max) throw bad(name, `expected an integer from ${o.min} to ${o.max}, got ${n}`);
    return n;
  }

  /** Epoch milliseconds or an ISO-8601 date-time. */
  time(name: string): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const n = /^\d{1,15}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
    if (!Number.isFinite(n)) throw bad(name, `expected epoch milliseconds or an ISO-8601 date-time, got ${show(v)}`);
    return n;
  }

  /**
   * A time range; `to` defaults to now and `from` to `to - defaultSpanMs`. Returns undefined
   * when neither bound is given and no default span is asked for.
   */
  range(now: number, defaultSpanMs?: number): { from: number; to: number } | undefined {
    const from = this.time('from');
    const to = this.time('to');
    if (from === undefined && to === undefined && defaultSpanMs === undefined) return undefined;
    const end = to ?? now;
    const start = from ?? end - (defaultSpanMs ?? 3_600_000);
    if (start > end)
      throw bad('from', `must not be after "to" (${new Date(start).toISOString()} > ${new Date(end).toISOString()})`);
    return { from: start, to: end };
  }
}
