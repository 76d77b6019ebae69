// Token-bucket rate limits per key (a token id, a client IP), in memory per api process.
import { RateLimitedError } from "../errors";

export interface RateLimiter {
  /** Throws RATE_LIMITED (429, Retry-After) when `key` is over its rate. */
  take(key: string, now?: number): void;
}

/** `perSec` 0 disables; bursts of 4× the rate are allowed. */
export function createRateLimiter(perSec: number, what: string): RateLimiter {
  if (perSec <= 0) return { take() {} };
  const burst = perSec * 4;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let sweptAt = Date.now();
  return {
    take(key, now = Date.now()) {
      // Forget idle keys now and then so the map stays bounded.
      if (now - sweptAt > 60_000) {
        for (const [k, b] of buckets) if (now - b.at > 60_000) buckets.delete(k);
        sweptAt = now;
      }
      const b = buckets.get(key) ?? { tokens: burst, at: now };
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSec);
      b.at = now;
      if (b.tokens < 1) {
        buckets.set(key, b);
        const retryAfterSec = Math.max(1, Math.ceil((1 - b.tokens) / perSec));
        throw new RateLimitedError(`too many requests for this ${what}; retry in ${retryAfterSec} s`, { retryAfterSec });
      }
      b.tokens -= 1;
      buckets.set(key, b);
    },
  };
}
