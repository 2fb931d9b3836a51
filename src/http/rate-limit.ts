// Fixed-window attempt limits shared by all instances (a limit one instance keeps alone is multiplied
// by the number of instances): the storage layer provides an
// atomic counter (Redis INCR+EXPIRE or an SQL upsert); this module names windows and keys them with
// HMAC-SHA256 under a secret derived from GATEHOUSE_SECRET_KEY, so emails and IP addresses never reach
// the store in clear, and a copy of the store cannot be matched against a list of guessed emails (a
// plain SHA-256 of an email can).
import { createHmac, type KeyObject } from 'node:crypto';

/**
 * Atomically adds one to `key` and returns the new count. The key already names its window, so the
 * store only needs to expire it after `windowSeconds` (a longer TTL is harmless).
 */
export type WindowCounter = (key: string, windowSeconds: number) => Promise<number>;

/** The store behind the limiter: the atomic counter, and removal of a counter (or a mark). */
export interface CounterStore {
  increment: WindowCounter;
  /**
   * One hit on each counter in turn, stopping after the first whose count goes over its `max`; the
   * counts made, in order (src/store/kv.ts: one script or one transaction).
   */
  incrementInTurn(hits: readonly { key: string; windowSeconds: number; max: number }[]): Promise<number[]>;
  remove(key: string): Promise<void>;
}

/** One limit: at most `max` attempts for `key` per window of `windowSeconds`. */
export interface LimitSpec {
  key: string;
  max: number;
  windowSeconds: number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Attempts in the current window, this one included. */
  count: number;
  /** Seconds until the window resets when refused; 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one attempt for `key` (e.g. `login:ip:203.0.113.9`) and says whether it is within `max`. */
  limit(key: string, max: number, windowSeconds: number): Promise<RateLimitResult>;
  /**
   * Counts one attempt against each limit in turn and stops at the first that refuses it: the limits
   * after it count nothing. The results of the limits counted, in order (the last refused, if any).
   */
  limitInTurn(limits: readonly LimitSpec[]): Promise<RateLimitResult[]>;
  /** Forgets the current window's count of `key` (a success ends a run of failures). */
  reset(key: string, windowSeconds: number): Promise<void>;
}

export interface RateLimiterOptions {
  /**
   * The HMAC key, shared by all instances (derive it from the configured secret key:
   * `box.deriveKey('rate-limit')`).
   */
  secret: string | KeyObject;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

export const RATE_KEY_PREFIX = 'rl:';

const keyBytes = (secret: string | KeyObject): number => (typeof secret === 'string' ? secret.length : (secret.symmetricKeySize ?? 0));

/** The keyed digest of a name (an email, an address, a pair of them): what the store sees. */
export const keyedDigest = (name: string, secret: string | KeyObject): string => createHmac('sha256', secret).update(name).digest('hex');

/** The stored form of a key: prefix + HMAC-SHA256 hex + window start (seconds). */
export function rateLimitKey(key: string, windowStartSeconds: number, secret: string | KeyObject): string {
  return `${RATE_KEY_PREFIX}${keyedDigest(key, secret)}:${windowStartSeconds}`;
}

export function createRateLimiter(store: CounterStore, options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  if (keyBytes(options.secret) < 16) throw new RangeError('the rate-limit secret must be at least 16 bytes');
  const windowOf = (windowSeconds: number) => {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw new RangeError('windowSeconds must be a positive whole number');
    const nowSeconds = now() / 1000;
    return { nowSeconds, start: Math.floor(nowSeconds / windowSeconds) * windowSeconds };
  };
  const result = (count: number, { max, windowSeconds }: LimitSpec, window: { nowSeconds: number; start: number }): RateLimitResult => {
    const allowed = count <= max;
    const retryAfterSeconds = allowed ? 0 : Math.max(1, Math.ceil(window.start + windowSeconds - window.nowSeconds));
    return { allowed, count, retryAfterSeconds };
  };
  return {
    async limit(key, max, windowSeconds) {
      const window = windowOf(windowSeconds);
      return result(await store.increment(rateLimitKey(key, window.start, options.secret), windowSeconds), { key, max, windowSeconds }, window);
    },
    async limitInTurn(limits) {
      const counted = limits.map((l) => ({ ...l, window: windowOf(l.windowSeconds) }));
      const counts = await store.incrementInTurn(counted.map((l) => ({ key: rateLimitKey(l.key, l.window.start, options.secret), windowSeconds: l.windowSeconds, max: l.max })));
      return counts.flatMap((count, i) => {
        const l = counted[i];
        return l ? [result(count, l, l.window)] : [];
      });
    },
    async reset(key, windowSeconds) {
      await store.remove(rateLimitKey(key, windowOf(windowSeconds).start, options.secret));
    },
  };
}

/** Flags with a lifetime (e.g. "this email signed in from this network"), under keyed digests too. */
export interface Marks {
  has(key: string): Promise<boolean>;
  set(key: string, ttlSeconds: number): Promise<void>;
}

export function createMarks(store: { get(key: string): Promise<unknown>; set(key: string, value: unknown, ttlSeconds: number): Promise<void> }, secret: string | KeyObject): Marks {
  const stored = (key: string) => `mk:${keyedDigest(key, secret)}`;
  return {
    has: async (key) => (await store.get(stored(key))) === true,
    set: (key, ttlSeconds) => store.set(stored(key), true, ttlSeconds),
  };
}
