// Fixed-window attempt limits shared by all instances (DESIGN.md §9): the storage layer provides an
// atomic counter (Redis INCR+EXPIRE or an SQL upsert); this module names windows and hashes keys, so
// emails and IP addresses never reach the store in clear.
import { createHash, createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { GatehouseError } from '../domain/errors.ts';

/**
 * Atomically adds one to `key` and returns the new count. The key already names its window, so the
 * store only needs to expire it after `windowSeconds` (a longer TTL is harmless).
 */
export type WindowCounter = (key: string, windowSeconds: number) => Promise<number>;

export interface RateLimitResult {
  allowed: boolean;
  /** Attempts in the current window, this one included. */
  count: number;
  /** Seconds until the window resets when refused; 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one attempt for `key` (e.g. `login:email:a@b.c`) and says whether it is within `max`. */
  limit(key: string, max: number, windowSeconds: number): Promise<RateLimitResult>;
}

export interface RateLimiterOptions {
  /** Clock in milliseconds (tests). */
  now?: () => number;
  /**
   * Keys are hashed with SHA-256; with a secret (shared by all instances) HMAC-SHA256 is used instead,
   * so a leaked key list cannot be matched against guessed emails.
   */
  secret?: string | Buffer;
}

export const RATE_KEY_PREFIX = 'rl:';

/** The stored form of a key: prefix + hex digest + window start (seconds). */
export function rateLimitKey(key: string, windowStartSeconds: number, secret?: string | Buffer): string {
  const digest = secret ? createHmac('sha256', secret).update(key).digest('hex') : createHash('sha256').update(key).digest('hex');
  return `${RATE_KEY_PREFIX}${digest}:${windowStartSeconds}`;
}

export function createRateLimiter(counter: WindowCounter, options: RateLimiterOptions = {}): RateLimiter {
  const now = options.now ?? Date.now;
  return {
    async limit(key, max, windowSeconds) {
      if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw new RangeError('windowSeconds must be a positive whole number');
      const nowSeconds = now() / 1000;
      const windowStart = Math.floor(nowSeconds / windowSeconds) * windowSeconds;
      const count = await counter(rateLimitKey(key, windowStart, options.secret), windowSeconds);
      const allowed = count <= max;
      const retryAfterSeconds = allowed ? 0 : Math.max(1, Math.ceil(windowStart + windowSeconds - nowSeconds));
      return { allowed, count, retryAfterSeconds };
    },
  };
}

/**
 * Throws GatehouseError `rate_limited` (429) with a `Retry-After` header when `result` is refused.
 * The error middleware keeps the header.
 */
export function assertWithinLimit(
  ctx: Context,
  result: RateLimitResult,
  message = 'Too many attempts. Wait a few minutes, then try again.',
): void {
  if (result.allowed) return;
  ctx.set('Retry-After', String(result.retryAfterSeconds));
  throw new GatehouseError('rate_limited', 429, message, `count ${result.count}`);
}
