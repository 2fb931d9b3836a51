// Counters and short-lived values shared by every instance (rate limits, interaction page state, …):
// Redis when configured, otherwise the SQL tables `counters` and `kv_entries` (DESIGN.md §10).
import { sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { runScript, luaScript, type RedisClient } from './redis.ts';
import { createKvStoreRepo } from './repositories/kv-store.ts';

export interface Kv {
  /** Atomic fixed-window counter: the window starts at the key's first hit; returns the count within it. */
  increment(key: string, windowSeconds: number): Promise<number>;
  /** The value, or undefined when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores a JSON-serialisable value for ttlSeconds. */
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  /** Removes and returns the value in one atomic step: of concurrent callers, exactly one gets it (single use). */
  take<T>(key: string): Promise<T | undefined>;
  /** Removes the value and the counter of that key. */
  delete(key: string): Promise<void>;
  ping(): Promise<void>;
}

export interface KvOptions {
  db: Db;
  redis?: RedisClient | undefined;
  /** namespace for every key; default `gatehouse:`. */
  prefix?: string | undefined;
}

// INCR and the window's expiry in one atomic step; a counter that somehow lost its expiry gets one back.
const INCREMENT = luaScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n`);

const positiveMs = (seconds: number) => Math.max(1, Math.ceil(seconds * 1000));

export function createKv(options: KvOptions): Kv {
  const prefix = options.prefix ?? 'gatehouse:';
  const { redis } = options;
  if (redis) {
    const counterKey = (key: string) => `${prefix}ctr:${key}`;
    const valueKey = (key: string) => `${prefix}kv:${key}`;
    return {
      async increment(key, windowSeconds) {
        return Number(await runScript(redis, INCREMENT, [counterKey(key)], [String(positiveMs(windowSeconds))]));
      },
      async get<T>(key: string) {
        const raw = await redis.get(valueKey(key));
        return raw === null ? undefined : (JSON.parse(raw) as T);
      },
      async set(key, value, ttlSeconds) {
        await redis.set(valueKey(key), JSON.stringify(value), { expiration: { type: 'PX', value: positiveMs(ttlSeconds) } });
      },
      async take<T>(key: string) {
        const raw = await redis.getDel(valueKey(key));
        return raw === null ? undefined : (JSON.parse(raw) as T);
      },
      async delete(key) {
        await redis.del([valueKey(key), counterKey(key)]);
      },
      async ping() {
        await redis.ping();
      },
    };
  }

  const store = createKvStoreRepo(options.db);
  return {
    increment: (key, windowSeconds) => store.increment(prefix + key, Math.max(0.001, windowSeconds)),
    async get<T>(key: string) {
      const row = await store.get(prefix + key);
      return row?.value as T | undefined;
    },
    set: (key, value, ttlSeconds) => store.set(prefix + key, value, Math.max(0.001, ttlSeconds)),
    async take<T>(key: string) {
      const row = await store.take(prefix + key);
      return row?.value as T | undefined;
    },
    delete: (key) => store.delete(prefix + key),
    async ping() {
      await options.db.execute(sql`select 1`);
    },
  };
}
