import { describe, expect, it } from '@jest/globals';
import { createRateLimiter, rateLimitKey, type WindowCounter } from '../../../src/http/rate-limit.ts';

/** An in-memory stand-in for the storage layer's atomic fixed-window INCR. */
function fakeCounter(): WindowCounter & { keys: string[] } {
  const counts = new Map<string, number>();
  const fn = async (key: string) => {
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return n;
  };
  return Object.assign(fn, { get keys() { return [...counts.keys()]; } });
}

describe('rate limiter (fixed window, shared counter)', () => {
  it('allows up to max attempts in a window, then refuses with the time to the window end', async () => {
    let now = 1_000_000_000; // ms, 10 s into a 60 s window starting at 999_960 s
    const limiter = createRateLimiter(fakeCounter(), { now: () => now });
    for (let i = 1; i <= 3; i++) {
      expect(await limiter.limit('login:ip:203.0.113.9', 3, 60)).toEqual({ allowed: true, count: i, retryAfterSeconds: 0 });
    }
    expect(await limiter.limit('login:ip:203.0.113.9', 3, 60)).toEqual({ allowed: false, count: 4, retryAfterSeconds: 20 });
    now += 25_000; // next window
    expect(await limiter.limit('login:ip:203.0.113.9', 3, 60)).toMatchObject({ allowed: true, count: 1 });
  });

  it('counts keys separately', async () => {
    const limiter = createRateLimiter(fakeCounter());
    await limiter.limit('login:email:a@example.com', 1, 60);
    expect((await limiter.limit('login:email:b@example.com', 1, 60)).allowed).toBe(true);
    expect((await limiter.limit('login:email:a@example.com', 1, 60)).allowed).toBe(false);
  });

  it('never hands emails or IPs to the store in clear', async () => {
    const counter = fakeCounter();
    await createRateLimiter(counter).limit('login:email:alice@example.com', 5, 900);
    await createRateLimiter(counter).limit('login:ip:198.51.100.7', 5, 900);
    for (const key of counter.keys) {
      expect(key).toMatch(/^rl:[0-9a-f]{64}:\d+$/);
      expect(key).not.toMatch(/alice|example|198\.51/);
    }
  });

  it('uses HMAC when given a secret, so digests cannot be matched against guessed emails', () => {
    expect(rateLimitKey('a@b.c', 0, 'k1')).not.toBe(rateLimitKey('a@b.c', 0));
    expect(rateLimitKey('a@b.c', 0, 'k1')).not.toBe(rateLimitKey('a@b.c', 0, 'k2'));
  });

  it('rejects a nonsensical window', async () => {
    await expect(createRateLimiter(fakeCounter()).limit('k', 1, 0)).rejects.toThrow(RangeError);
  });
});
