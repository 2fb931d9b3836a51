// Change signals: how every instance learns at once that clients or accounts changed, so that it may
// keep them in memory (src/oidc/clients.ts, src/oidc/accounts.ts) and still refuse a disabled client,
// a rotated secret or a disabled account on the very next request.
// - Embedded default: a generation counter per topic in LMDB (multi-process safe). A reader sees the
//   other process's committed write from its next event-loop turn on, and a read is a lookup in mapped
//   memory, so it is read on every use: the CLI, as another process, changes what the server caches.
// - Redis: a publish on one channel; each server keeps a local counter per topic, moved by every
//   message. While its subscriber connection is down nothing may be cached (generation undefined), and
//   every reconnection starts a new epoch, so no message lost meanwhile can leave a stale entry behind.
// - PostgreSQL without Redis: no signal between processes, so nothing is cached.
import type { RedisClient } from './redis.ts';
import { key, type LmdbStore } from './lmdb.ts';

export type ChangeTopic = 'clients' | 'accounts';

export interface ChangeSignals {
  /**
   * A value that changes whenever `topic` changes anywhere; undefined when this process cannot learn
   * of changes now, and then nothing of that topic may be served from memory.
   */
  generation(topic: ChangeTopic): number | undefined;
  /** Tells every instance (this one included) that `topic` changed. Call it after the change committed. */
  changed(topic: ChangeTopic): Promise<void>;
  close(): Promise<void>;
}

export interface ChangeSignalOptions {
  redis?: RedisClient | undefined;
  lmdb?: LmdbStore | undefined;
  /** namespace of the Redis channel. */
  prefix: string;
  /** whether this process caches (servers) or only announces changes (the CLI). */
  listen: boolean;
}

const TOPICS: readonly ChangeTopic[] = ['clients', 'accounts'];

export async function openChangeSignals(options: ChangeSignalOptions): Promise<ChangeSignals> {
  const { redis, lmdb } = options;
  if (redis) return openRedisSignals(redis, `${options.prefix}changes`, options.listen);
  if (lmdb) return lmdbSignals(lmdb);
  return { generation: () => undefined, changed: async () => undefined, close: async () => undefined };
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
    close: async () => undefined,
  };
}

async function openRedisSignals(redis: RedisClient, channel: string, listen: boolean): Promise<ChangeSignals> {
  const announce = async (topic: ChangeTopic) => {
    await redis.publish(channel, topic);
  };
  if (!listen) return { generation: () => undefined, changed: announce, close: async () => undefined };

  const counts: Record<ChangeTopic, number> = { clients: 0, accounts: 0 };
  let epoch = 0;
  let listening = false;
  const subscriber = redis.duplicate();
  // Every connection state change starts a new epoch: what was cached before it is never served again.
  const down = () => {
    listening = false;
    epoch++;
  };
  subscriber.on('error', down);
  subscriber.on('reconnecting', down);
  subscriber.on('end', down);
  subscriber.on('ready', () => {
    epoch++;
    // the client subscribes again before it reports ready after a reconnection
    listening = subscribed;
  });
  let subscribed = false;
  await subscriber.connect();
  await subscriber.subscribe(channel, (message) => {
    if ((TOPICS as readonly string[]).includes(message)) counts[message as ChangeTopic]++;
  });
  subscribed = true;
  listening = true;
  epoch++;
  return {
    // epoch and count packed into one number: both only grow
    generation: (topic) => (listening ? epoch * 2 ** 26 + counts[topic] : undefined),
    async changed(topic) {
      counts[topic]++;
      await announce(topic);
    },
    async close() {
      listening = false;
      await subscriber.quit().catch(() => undefined);
    },
  };
}
