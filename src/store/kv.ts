// Counters and short-lived values shared by every instance (rate limits, interaction page state, …):
// Redis when configured; on the embedded default LMDB (src/store/lmdb.ts); otherwise (PostgreSQL
// without Redis) the SQL tables `counters` and `kv_entries` (DESIGN.md §10).
import { sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { isRedisCluster, runScript, luaScript, type RedisClient } from './redis.ts';
import { createKvStoreRepo } from './repositories/kv-store.ts';
import { isLive, key as lmdbKey, type LmdbStore } from './lmdb.ts';

/** One hit on a counter of `incrementInTurn`, and the count above which the counters after it are left alone. */
export interface CounterHit {
  key: string;
  windowSeconds: number;
  max: number;
}

export interface Kv {
  /** Atomic fixed-window counter: the window starts at the key's first hit; returns the count within it. */
  increment(key: string, windowSeconds: number): Promise<number>;
  /**
   * Counts one hit on each counter in turn, as `increment` does, and stops after the first whose count
   * goes over its `max` (the counters after it are not touched); returns the counts made, in order.
   * One script or one transaction where the store has them.
   */
  incrementInTurn(hits: readonly CounterHit[]): Promise<number[]>;
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
  /** the embedded store (used when there is no Redis). */
  lmdb?: LmdbStore | undefined;
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

// INCREMENT for each key in turn (ARGV: window ms and max of each), stopping after the first over its max.
const INCREMENT_IN_TURN = luaScript(`
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 or redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, ARGV[2 * i - 1])
  end
  counts[i] = n
  if n > tonumber(ARGV[2 * i]) then break end
end
return counts`);

const positiveMs = (seconds: number) => Math.max(1, Math.ceil(seconds * 1000));

/** `incrementInTurn` over a store's single counter, one hit after the other. */
async function oneByOne(hits: readonly CounterHit[], increment: (key: string, windowSeconds: number) => Promise<number>): Promise<number[]> {
  const counts: number[] = [];
  for (const hit of hits) {
    const n = await increment(hit.key, hit.windowSeconds);
    counts.push(n);
    if (n > hit.max) break;
  }
  return counts;
}

export function createKv(options: KvOptions): Kv {
  const prefix = options.prefix ?? 'gatehouse:';
  const { redis } = options;
  if (redis) {
    const counterKey = (key: string) => `${prefix}ctr:${key}`;
    const valueKey = (key: string) => `${prefix}kv:${key}`;
    const increment = async (key: string, windowSeconds: number) => Number(await runScript(redis, INCREMENT, [counterKey(key)], [String(positiveMs(windowSeconds))]));
    // in a Redis Cluster the counters may live on different nodes, and a script touches one node's keys only
    const cluster = isRedisCluster(redis);
    return {
      increment,
      async incrementInTurn(hits) {
        if (cluster) return oneByOne(hits, increment);
        const counts = await runScript(
          redis,
          INCREMENT_IN_TURN,
          hits.map((h) => counterKey(h.key)),
          hits.flatMap((h) => [String(positiveMs(h.windowSeconds)), String(h.max)]),
        );
        return (counts as unknown[]).map(Number);
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
        // one key per command: in a Redis Cluster the two keys may live on different nodes
        await Promise.all([redis.del(valueKey(key)), redis.del(counterKey(key))]);
      },
      async ping() {
        await redis.ping();
      },
    };
  }

  if (options.lmdb) return createLmdbKv(options.lmdb, prefix);

  const store = createKvStoreRepo(options.db);
  const increment = (key: string, windowSeconds: number) => store.increment(prefix + key, Math.max(0.001, windowSeconds));
  return {
    increment,
    incrementInTurn: (hits) => oneByOne(hits, increment),
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

interface LmdbValue {
  v: unknown;
  e: number;
}
interface LmdbCounter {
  n: number;
  e: number;
}

/** Kv on LMDB: every read-modify-write is one write transaction, serialised across processes. */
function createLmdbKv(lmdb: LmdbStore, prefix: string): Kv {
  const db = lmdb.kv;
  const valueKey = (key: string) => lmdbKey('v', prefix + key);
  const counterKey = (key: string) => lmdbKey('n', prefix + key);
  const expiry = (seconds: number) => Date.now() + positiveMs(seconds);
  /** One hit, inside a write transaction. */
  const hit = (key: string, windowSeconds: number): number => {
    const k = counterKey(key);
    const current = db.get(k) as LmdbCounter | undefined;
    const next: LmdbCounter = current && isLive(current, Date.now()) ? { n: current.n + 1, e: current.e } : { n: 1, e: expiry(windowSeconds) };
    void db.put(k, next);
    return next.n;
  };
  return {
    increment(key, windowSeconds) {
      return db.transaction(() => hit(key, windowSeconds));
    },
    incrementInTurn(hits) {
      return db.transaction(() => {
        const counts: number[] = [];
        for (const h of hits) {
          const n = hit(h.key, h.windowSeconds);
          counts.push(n);
          if (n > h.max) break;
        }
        return counts;
      });
    },
    async get<T>(key: string) {
      const entry = db.get(valueKey(key)) as LmdbValue | undefined;
      return entry && isLive(entry, Date.now()) ? (entry.v as T) : undefined;
    },
    async set(key, value, ttlSeconds) {
      // through JSON, as on the other stores: what comes back is what JSON keeps (no undefined, no Dates)
      await db.put(valueKey(key), { v: JSON.parse(JSON.stringify(value) ?? 'null') as unknown, e: expiry(ttlSeconds) } satisfies LmdbValue);
    },
    take<T>(key: string) {
      const k = valueKey(key);
      return db.transaction(() => {
        const entry = db.get(k) as LmdbValue | undefined;
        if (entry === undefined) return undefined;
        void db.remove(k);
        return isLive(entry, Date.now()) ? (entry.v as T) : undefined;
      });
    },
    async delete(key) {
      const [v, n] = [valueKey(key), counterKey(key)];
      await db.transaction(() => {
        void db.remove(v);
        void db.remove(n);
      });
    },
    async ping() {
      db.get(valueKey('ping'));
    },
  };
}
