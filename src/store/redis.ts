// Redis (node-redis v6) for oidc-provider artifacts and counters when REDIS_URL is set (DESIGN.md §10):
// one server, or a Redis Cluster with REDIS_CLUSTER=true (REDIS_URL then names any one of its nodes; the
// client learns the others and follows the slots as they move).
import { createHash } from 'node:crypto';
import type { RedisClientType, RedisClusterType } from 'redis';
import { GatehouseError } from '../domain/errors.ts';

export type RedisClient = RedisClientType | RedisClusterType;

/** A cluster client sends each command to the node owning its key's slot: a script may touch one key only. */
export const isRedisCluster = (redis: RedisClient): redis is RedisClusterType => 'masters' in redis;

export interface OpenRedisOptions {
  /** REDIS_CLUSTER: `url` is one node of a Redis Cluster. */
  cluster?: boolean | undefined;
  /** how long the first connection may take, in ms. */
  connectTimeoutMs?: number | undefined;
  /** connection errors after start-up (the client reconnects by itself); without it they are dropped. */
  onError?: ((error: Error) => void) | undefined;
}

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable REDIS_URL)';
  }
}

/**
 * A connected client. Start-up fails fast with a clear error when Redis does not answer; after that the
 * client reconnects with backoff, and commands issued while disconnected fail at once instead of queueing.
 */
export async function openRedis(url: string, options: OpenRedisOptions & { cluster: true }): Promise<RedisClusterType>;
export async function openRedis(url: string, options?: OpenRedisOptions & { cluster?: false | undefined }): Promise<RedisClientType>;
export async function openRedis(url: string, options?: OpenRedisOptions): Promise<RedisClient>;
export async function openRedis(url: string, options: OpenRedisOptions = {}): Promise<RedisClient> {
  let started = false;
  const clientOptions = {
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 5000,
      reconnectStrategy: (retries: number, cause: Error) => {
        // a fresh Error: the socket's own error may come from another realm (test VMs), which the client would not recognise
        if (!started) return retries >= 2 ? new Error(cause.message) : 200;
        return Math.min(100 * 2 ** Math.min(retries, 6), 5000);
      },
    },
  };
  // No per-command timer: node-redis's default arms one for every command, which costs ~3× the CPU
  // per command and holds garbage under load. A lost connection still fails commands (no offline queue).
  const commandOptions = { timeout: 0 };
  // loaded here, not at start-up: the embedded default never uses Redis, and node-redis is ~650 modules
  const { createClient, createCluster } = await import('redis');
  const client: RedisClient = options.cluster
    ? createCluster({ rootNodes: [{ url }], defaults: nodeDefaults(url, clientOptions), commandOptions })
    : createClient({ url, ...clientOptions, commandOptions });
  client.on('error', (error: Error) => {
    if (started) options.onError?.(error);
  });
  try {
    await client.connect();
  } catch (e) {
    client.destroy();
    throw new GatehouseError(
      'redis_unreachable',
      503,
      `Cannot connect to Redis${options.cluster ? ' Cluster' : ''} at ${redactRedisUrl(url)}. Check that it runs and that REDIS_URL${options.cluster ? ' and REDIS_CLUSTER are' : ' is'} right, or unset REDIS_URL to keep these data in the database.`,
      e instanceof Error ? e.message : String(e),
    );
  }
  started = true;
  return client;
}

/** The seed URL's user, password and TLS apply to every node the cluster client discovers. */
function nodeDefaults<S extends object>(url: string, options: { disableOfflineQueue: boolean; socket: S }) {
  const parsed = new URL(url);
  return {
    ...options,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    socket: parsed.protocol === 'rediss:' ? { ...options.socket, tls: true as const } : options.socket,
  };
}

export interface LuaScript {
  source: string;
  sha1: string;
}

export const luaScript = (source: string): LuaScript => ({ source, sha1: createHash('sha1').update(source).digest('hex') });

/** Runs a script by its digest, loading it on the first NOSCRIPT (after a Redis restart, for instance). */
export async function runScript(redis: RedisClient, script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await redis.evalSha(script.sha1, { keys, arguments: args });
  } catch (e) {
    const message = typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : '';
    if (!message.startsWith('NOSCRIPT')) throw e;
    return redis.eval(script.source, { keys, arguments: args });
  }
}

/** Every key matching `pattern`, in batches: on one server, or on each master of a cluster. */
export async function* scanKeys(redis: RedisClient, pattern: string): AsyncGenerator<string[]> {
  const servers = isRedisCluster(redis) ? await Promise.all(redis.masters.map((m) => redis.nodeClient(m))) : [redis];
  for (const server of servers) {
    for await (const keys of server.scanIterator({ MATCH: pattern, COUNT: 500 })) if (keys.length > 0) yield keys;
  }
}
