// Kv: counters and short-lived values shared by every instance, on Redis, on LMDB (the embedded
// default) or on the SQL tables. Every backend honours the same contract; the counter is exact under parallel hits.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createKv, type Kv } from '../../../src/store/kv.ts';
import { openRedis } from '../../../src/store/redis.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { redisUnderTest, uniquePrefix } from '../../helpers/redis.ts';
import { temporaryLmdb } from '../../helpers/adapters.ts';

function kvContract(title: string, open: () => Promise<{ kv: Kv; dispose(): Promise<void>; flushScripts?: () => Promise<void> }>) {
  describe(title, () => {
    let kv: Kv;
    let dispose: () => Promise<void>;
    let flushScripts: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ kv, dispose, flushScripts } = await open());
    });
    afterAll(() => dispose());

    it('counts 50 parallel hits exactly', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => kv.increment('login:ip:192.0.2.1', 60)));
      expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await kv.increment('login:ip:192.0.2.1', 60)).toBe(51);
    });

    it('counts hits in turn, stopping after the first counter over its max', async () => {
      const hits = [
        { key: 'turn:ip', windowSeconds: 60, max: 100 },
        { key: 'turn:pair', windowSeconds: 60, max: 1 },
        { key: 'turn:account', windowSeconds: 60, max: 100 },
      ];
      expect(await kv.incrementInTurn(hits)).toEqual([1, 1, 1]);
      expect(await kv.incrementInTurn(hits)).toEqual([2, 2]);
      expect(await kv.incrementInTurn(hits)).toEqual([3, 3]);
      expect(await kv.increment('turn:account', 60)).toBe(2); // untouched by the two stopped turns
      expect(await kv.incrementInTurn([])).toEqual([]);
    });

    it('counts 30 parallel turns exactly on every counter', async () => {
      const hits = [
        { key: 'parallel:a', windowSeconds: 60, max: 1000 },
        { key: 'parallel:b', windowSeconds: 60, max: 1000 },
      ];
      const turns = await Promise.all(Array.from({ length: 30 }, () => kv.incrementInTurn(hits)));
      for (const column of [0, 1]) expect(turns.map((t) => t[column]).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    });

    it('starts each counter of a turn in its own window', async () => {
      expect(await kv.incrementInTurn([{ key: 'turn-window:short', windowSeconds: 2, max: 10 }, { key: 'turn-window:long', windowSeconds: 60, max: 10 }])).toEqual([1, 1]);
      await sleep(2200);
      expect(await kv.incrementInTurn([{ key: 'turn-window:short', windowSeconds: 2, max: 10 }, { key: 'turn-window:long', windowSeconds: 60, max: 10 }])).toEqual([1, 2]);
    });

    it('keeps counters apart by key', async () => {
      expect(await kv.increment('a', 60)).toBe(1);
      expect(await kv.increment('b', 60)).toBe(1);
      expect(await kv.increment('a', 60)).toBe(2);
    });

    // Windows of 2 s: on a loaded machine a write may take a good part of a second to commit (LMDB).
    it('starts a new window once the window of the first hit has passed', async () => {
      expect(await kv.increment('window', 2)).toBe(1);
      expect(await kv.increment('window', 2)).toBe(2);
      await sleep(2200);
      expect(await kv.increment('window', 2)).toBe(1);
    });

    it('does not extend the window on later hits (fixed window)', async () => {
      expect(await kv.increment('fixed', 2)).toBe(1);
      await sleep(1000);
      expect(await kv.increment('fixed', 2)).toBe(2);
      await sleep(1200);
      expect(await kv.increment('fixed', 2)).toBe(1);
    });

    it('stores, returns and deletes JSON values', async () => {
      await kv.set('state:1', { step: 'mfa', accountId: 'x', n: [1, 2] }, 60);
      expect(await kv.get('state:1')).toEqual({ step: 'mfa', accountId: 'x', n: [1, 2] });
      await kv.set('state:1', 'replaced', 60);
      expect(await kv.get<string>('state:1')).toBe('replaced');
      await kv.set('number-like', '123', 60);
      expect(await kv.get('number-like')).toBe('123');
      await kv.delete('state:1');
      expect(await kv.get('state:1')).toBeUndefined();
      expect(await kv.get('never-set')).toBeUndefined();
    });

    it('treats an expired value as absent', async () => {
      await kv.set('short', true, 2);
      expect(await kv.get('short')).toBe(true);
      await sleep(2200);
      expect(await kv.get('short')).toBeUndefined();
    });

    it('resets a counter on delete', async () => {
      await kv.increment('reset-me', 60);
      await kv.increment('reset-me', 60);
      await kv.delete('reset-me');
      expect(await kv.increment('reset-me', 60)).toBe(1);
    });

    it('keeps counting after the server forgot its scripts (restart)', async () => {
      await kv.increment('after-flush', 60);
      await flushScripts?.();
      expect(await kv.increment('after-flush', 60)).toBe(2);
    });

    it('answers ping', async () => {
      await expect(kv.ping()).resolves.toBeUndefined();
    });
  });
}

kvContract(`Kv on SQL tables (${backendName()})`, async () => {
  const database: TestDatabase = await createTestDatabase();
  return { kv: createKv({ db: database.db }), dispose: () => database.dispose() };
});

kvContract('Kv on LMDB (embedded default)', async () => {
  const database: TestDatabase = await createTestDatabase();
  const lmdb = temporaryLmdb();
  return {
    kv: createKv({ db: database.db, lmdb: lmdb.store }),
    async dispose() {
      await lmdb.dispose();
      await database.dispose();
    },
  };
});

// The Redis store is tested against the local Redis in the embedded mode too.
kvContract('Kv on Redis', async () => {
  const database = await createTestDatabase();
  const redis = await openRedis(redisUnderTest());
  const prefix = uniquePrefix();
  return {
    kv: createKv({ db: database.db, redis, prefix }),
    async flushScripts() {
      await redis.scriptFlush();
    },
    async dispose() {
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
      redis.destroy();
      await database.dispose();
    },
  };
});

describe('openRedis', () => {
  it('fails with a clear error when Redis does not answer', async () => {
    // port 1 on loopback: nothing listens there
    await expect(openRedis('redis://:secret@127.0.0.1:1', { connectTimeoutMs: 500 })).rejects.toMatchObject({
      code: 'redis_unreachable',
      status: 503,
      message: expect.stringMatching(/^Cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/),
    });
  });
});
