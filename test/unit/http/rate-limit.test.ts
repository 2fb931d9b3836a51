import { createHash, createHmac, createSecretKey } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createMarks, createRateLimiter, rateLimitKey } from '../../../src/http/rate-limit.ts';
import { memoryCounterStore } from '../../helpers/counter-store.ts';

const SECRET = createSecretKey(Buffer.alloc(32, 7));

describe('rate limiter (fixed window, shared counter)', () => {
  it('allows up to max attempts in a window, then refuses with the time to the window end', async () => {
    let now = 1_000_000_000; // ms, 10 s into a 60 s window starting at 999_960 s
    const limiter = createRateLimiter(memoryCounterStore(), { secret: SECRET, now: () => now });
    for (let i = 1; i <= 3; i++) {
      expect(await limiter.limit('login:ip:203.0.113.9', 3, 60)).toEqual({ allowed: true, count: i, retryAfterSeconds: 0 });
    }
    expect(await limiter.limit('login:ip:203.0.113.9', 3, 60)).toEqual({ allowed: false, count: 4, retryAfterSeconds: 20 });
    now += 25_000; // next window
    expect(await limiter.limit('login:ip:203.0.113.9', 3, 60)).toMatchObject({ allowed: true, count: 1 });
  });

  it('counts keys separately, and reset clears one key of the current window', async () => {
    const limiter = createRateLimiter(memoryCounterStore(), { secret: SECRET });
    await limiter.limit('login:email:a@example.com', 1, 60);
    expect((await limiter.limit('login:email:b@example.com', 1, 60)).allowed).toBe(true);
    expect((await limiter.limit('login:email:a@example.com', 1, 60)).allowed).toBe(false);
    await limiter.reset('login:email:a@example.com', 60);
    expect((await limiter.limit('login:email:a@example.com', 1, 60)).allowed).toBe(true);
    expect((await limiter.limit('login:email:b@example.com', 1, 60)).allowed).toBe(false);
  });

  it('hands the store HMAC-SHA256 digests under the secret, never an email, an IP or their plain SHA-256', async () => {
    const store = memoryCounterStore();
    const limiter = createRateLimiter(store, { secret: SECRET, now: () => 0 });
    await limiter.limit('login:email:alice@example.com', 5, 900);
    await limiter.limit('login:ip:198.51.100.7', 5, 900);
    const plain = ['login:email:alice@example.com', 'login:ip:198.51.100.7'].map((k) => createHash('sha256').update(k).digest('hex'));
    const keyed = ['login:email:alice@example.com', 'login:ip:198.51.100.7'].map((k) => createHmac('sha256', Buffer.alloc(32, 7)).update(k).digest('hex'));
    expect(store.keys).toEqual(keyed.map((d) => `rl:${d}:0`));
    for (const key of store.keys) {
      expect(key).not.toMatch(/alice|example|198\.51/);
      for (const digest of plain) expect(key).not.toContain(digest);
    }
  });

  it('counts limits in turn and stops at the first that refuses: the limits after it count nothing', async () => {
    let now = 1_000_000_000;
    const store = memoryCounterStore();
    const limiter = createRateLimiter(store, { secret: SECRET, now: () => now });
    const limits = [
      { key: 'login:ip:203.0.113.9', max: 5, windowSeconds: 60 },
      { key: 'login:pair', max: 2, windowSeconds: 60 },
      { key: 'login:account', max: 10, windowSeconds: 900 },
    ];
    expect(await limiter.limitInTurn(limits)).toEqual([
      { allowed: true, count: 1, retryAfterSeconds: 0 },
      { allowed: true, count: 1, retryAfterSeconds: 0 },
      { allowed: true, count: 1, retryAfterSeconds: 0 },
    ]);
    await limiter.limitInTurn(limits);
    // the pair's third attempt is refused; the account's counter stays at 2
    expect(await limiter.limitInTurn(limits)).toEqual([
      { allowed: true, count: 3, retryAfterSeconds: 0 },
      { allowed: false, count: 3, retryAfterSeconds: 20 },
    ]);
    expect(await limiter.limit('login:account', 10, 900)).toMatchObject({ allowed: true, count: 3 });
    // each limit has its own window: a new minute starts the first two again
    now += 20_000;
    expect((await limiter.limitInTurn(limits)).map((r) => r.count)).toEqual([1, 1, 4]);
    expect(store.keys).toHaveLength(5);
  });

  it('cannot be built without a secret of at least 16 bytes', () => {
    expect(() => createRateLimiter(memoryCounterStore(), { secret: '' })).toThrow(RangeError);
    expect(() => createRateLimiter(memoryCounterStore(), { secret: 'short' })).toThrow(RangeError);
    expect(rateLimitKey('a@b.c', 0, 'k1'.repeat(8))).not.toBe(rateLimitKey('a@b.c', 0, 'k2'.repeat(8)));
  });

  it('rejects a nonsensical window', async () => {
    await expect(createRateLimiter(memoryCounterStore(), { secret: SECRET }).limit('k', 1, 0)).rejects.toThrow(RangeError);
  });

  it('keeps marks under keyed digests too', async () => {
    const values = new Map<string, unknown>();
    const marks = createMarks({ get: async (k) => values.get(k), set: async (k, v) => void values.set(k, v) }, SECRET);
    expect(await marks.has('login:known:a@example.com|203.0.113.9')).toBe(false);
    await marks.set('login:known:a@example.com|203.0.113.9', 60);
    expect(await marks.has('login:known:a@example.com|203.0.113.9')).toBe(true);
    expect([...values.keys()].join()).not.toMatch(/example|203/);
  });
});
