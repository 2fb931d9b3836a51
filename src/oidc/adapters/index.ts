// oidc-provider artifacts go to Redis when it is configured, otherwise to the SQL table oidc_payloads.
import type { Runtime } from '../../runtime.ts';
import { createRedisAdapter } from './redis-adapter.ts';
import { createSqlAdapter, type GatehouseAdapterClass } from './sql-adapter.ts';

export function createStorageAdapter(runtime: Pick<Runtime, 'redis' | 'redisPrefix' | 'database'>): GatehouseAdapterClass {
  return runtime.redis ? createRedisAdapter(runtime.redis, `${runtime.redisPrefix}oidc:`) : createSqlAdapter(runtime.database.db);
}
