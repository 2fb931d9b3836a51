// Redis (node-redis v6) for oidc-provider artifacts and counters when REDIS_URL is set (DESIGN.md §10).
import { createHash } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { GatehouseError } from '../domain/errors.ts';

export type RedisClient = RedisClientType;

export interface OpenRedisOptions {
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
export async function openRedis(url: string, options: OpenRedisOptions = {}): Promise<RedisClient> {
  let started = false;
  const client: RedisClient = createClient({
    url,
    disableOfflineQueue: true,
    // No per-command timer: node-redis's default arms one for every command, which costs ~3× the CPU
    // per command and holds garbage under load. A lost connection still fails commands (no offline queue).
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 5000,
      reconnectStrategy: (retries, cause) => {
        // a fresh Error: the socket's own error may come from another realm (test VMs), which the client would not recognise
        if (!started) return retries >= 2 ? new Error(cause.message) : 200;
        return Math.min(100 * 2 ** Math.min(retries, 6), 5000);
      },
    },
  });
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
      `Cannot connect to Redis at ${redactRedisUrl(url)}. Check that it runs and that REDIS_URL is right, or unset REDIS_URL to keep these data in the database.`,
      e instanceof Error ? e.message : String(e),
    );
  }
  started = true;
  return client;
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
