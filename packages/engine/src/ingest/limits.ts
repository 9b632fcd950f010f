/**
 * Token-bucket rate limits for ingest, one bucket per key (an API key's name, a remote address):
 * `rate_per_sec` tokens flow in, at most `burst` are held, each request takes one. A refusal
 * says how many whole seconds until a token is there (the HTTP `Retry-After`). The number of
 * buckets is bounded, so a flood of new addresses cannot grow memory: idle (full) buckets go
 * first, then the oldest.
 *
 * @example
 * const perKey = new RateLimiter({ rate_per_sec: 20, burst: 40, now: () => Date.now() });
 * const r = perKey.take('key:plc-gw'); // { ok: true } or { ok: false, retry_after_secs: 1 }
 */
export interface RateLimiterOptions {
  rate_per_sec: number;
  burst: number;
  now: () => number;
  /** Buckets kept at most; default 10 000. */
  max_keys?: number;
}

export type Take = { ok: true } | { ok: false; retry_after_secs: number };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly maxKeys: number;
  constructor(private readonly o: RateLimiterOptions) {
    if (!(o.rate_per_sec > 0) || !(o.burst >= 1))
      throw new RangeError(`rate limiter: rate_per_sec must be > 0 and burst >= 1, got ${o.rate_per_sec}, ${o.burst}`);
    this.maxKeys = o.max_keys ?? 10_000;
  }

  take(key: string): Take {
    const t = this.o.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      this.evict(t);
      b = { tokens: this.o.burst, at: t };
      this.buckets.set(key, b);
    } else {
      // A clock that steps back must not mint tokens or freeze the bucket.
      const dt = Math.max(0, t - b.at) / 1000;
      b.tokens = Math.min(this.o.burst, b.tokens + dt * this.o.rate_per_sec);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retry_after_secs: Math.max(1, Math.ceil((1 - b.tokens) / this.o.rate_per_sec)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(t: number): void {
    if (this.buckets.size < this.maxKeys) return;
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.o.rate_per_sec >= this.o.burst) this.buckets.delete(k);
    }
    // Still full: drop the oldest buckets (Map keeps insertion order).
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(k);
    }
  }
}
