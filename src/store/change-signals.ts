// Change signals: how every instance learns at once that clients, accounts or upstream identity
// providers changed, so that it may keep them in memory (src/oidc/clients.ts, src/oidc/accounts.ts,
// the sign-in page's provider buttons) and still refuse a disabled client, a rotated secret or a
// disabled account on the very next request.
// - Embedded default: a generation counter per topic in LMDB (multi-process safe). A reader sees the
//   other process's committed write from its next event-loop turn on, and a read is a lookup in mapped
//   memory, so it is read on every use: the CLI, as another process, changes what the server caches.
// - Redis: the same counter in a Redis key, read on every use (one GET instead of the database query).
//   A publish/subscribe notice would cost nothing per lookup but is not immediate: a server may take a
//   request before it has read a notice that Redis sent it first, so a change acknowledged on one
//   instance could still be served stale by another for a moment.
// - PostgreSQL without Redis: no signal between processes, so nothing is cached.
import type { RedisClient } from './redis.ts';
import { key, type LmdbStore } from './lmdb.ts';

export type ChangeTopic = 'clients' | 'accounts' | 'upstream_idps';

export interface ChangeSignals {
  /**
   * A value that changes whenever `topic` changes anywhere, read after every change acknowledged
   * before this call; undefined when it cannot be known, and then nothing of that topic may be served
   * from memory.
   */
  generation(topic: ChangeTopic): number | undefined | Promise<number | undefined>;
  /** Tells every instance (this one included) that `topic` changed. Call it after the change committed. */
  changed(topic: ChangeTopic): Promise<void>;
}

export interface ChangeSignalOptions {
  redis?: RedisClient | undefined;
  lmdb?: LmdbStore | undefined;
  /** namespace of the Redis keys. */
  prefix: string;
}

export function openChangeSignals(options: ChangeSignalOptions): ChangeSignals {
  const { redis, lmdb } = options;
  if (redis) return redisSignals(redis, options.prefix);
  if (lmdb) return lmdbSignals(lmdb);
  return { generation: () => undefined, changed: async () => undefined };
}

function lmdbSignals(lmdb: LmdbStore): ChangeSignals {
  const db = lmdb.kv;
  const at = (topic: ChangeTopic) => key('g', topic);
  const read = (topic: ChangeTopic): number => {
    const value = db.get(at(topic));
    return typeof value === 'number' ? value : 0;
  };
  return {
    generation: read,
    async changed(topic) {
      await db.transaction(() => {
        void db.put(at(topic), read(topic) + 1);
      });
    },
  };
}

function redisSignals(redis: RedisClient, prefix: string): ChangeSignals {
  const at = (topic: ChangeTopic) => `${prefix}gen:${topic}`;
  return {
    async generation(topic) {
      try {
        const value = await redis.get(at(topic));
        return value === null ? 0 : Number(value);
      } catch {
        return undefined; // Redis unreachable: read the database instead
      }
    },
    async changed(topic) {
      await redis.incr(at(topic));
    },
  };
}
