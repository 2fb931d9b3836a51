// oidc-provider artifacts go to Redis when it is configured, to LMDB on the embedded default, otherwise
// (PostgreSQL without Redis) to the SQL table oidc_payloads.
import type { Runtime } from '../../runtime.ts';
import { createLmdbAdapter } from './lmdb-adapter.ts';
import { createRedisAdapter } from './redis-adapter.ts';
import { createSqlAdapter, type GatehouseAdapterClass } from './sql-adapter.ts';

export function createStorageAdapter(runtime: Pick<Runtime, 'redis' | 'redisPrefix' | 'database' | 'lmdb'>): GatehouseAdapterClass {
  if (runtime.redis) return createRedisAdapter(runtime.redis, `${runtime.redisPrefix}oidc:`);
  return runtime.lmdb ? createLmdbAdapter(runtime.lmdb) : createSqlAdapter(runtime.database.db);
}
