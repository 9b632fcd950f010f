import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from './limits.ts';

describe('RateLimiter (token bucket)', () => {
  it('allows the burst, then refuses with Retry-After until tokens flow back in', () => {
    let t = 0;
    const r = new RateLimiter({ rate_per_sec: 2, burst: 3, now: () => t });
    expect([1, 2, 3].map(() => r.take('a').ok)).toEqual([true, true, true]);
    expect(r.take('a')).toEqual({ ok: false, retry_after_secs: 1 });
    expect(r.take('b').ok).toBe(true); // buckets are per key
    t = 500;
    expect(r.take('a').ok).toBe(true);
    expect(r.take('a').ok).toBe(false);
  });

  it('never admits more than burst + rate × elapsed, whatever the request times', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 300 }),
        (rate, burst, gaps) => {
          let t = 0;
          const r = new RateLimiter({ rate_per_sec: rate, burst, now: () => t });
          let admitted = 0;
          for (const g of gaps) {
            t += g;
            const x = r.take('k');
            if (x.ok) admitted++;
            else expect(x.retry_after_secs).toBeGreaterThanOrEqual(1);
          }
          expect(admitted).toBeLessThanOrEqual(burst + (rate * t) / 1000 + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps at most max_keys buckets under a flood of new addresses', () => {
    const r = new RateLimiter({ rate_per_sec: 1, burst: 1, now: () => 0, max_keys: 100 });
    for (let i = 0; i < 10_000; i++) r.take(`10.0.${i >> 8}.${i & 255}`);
    expect(r.size).toBeLessThanOrEqual(100);
  });
});
