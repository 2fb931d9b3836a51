// The two oidc-provider storage back ends under test: the SQL adapter on the test database, and the
// Redis adapter under a key prefix of its own (its keys are deleted afterwards).
import type { GatehouseAdapterClass } from '../../src/oidc/adapters/sql-adapter.ts';
import { createSqlAdapter } from '../../src/oidc/adapters/sql-adapter.ts';
import { createRedisAdapter } from '../../src/oidc/adapters/redis-adapter.ts';
import { openRedis } from '../../src/store/redis.ts';
import { createTestDatabase } from './db.ts';
import { uniquePrefix } from './redis.ts';

export interface AdapterFixture {
  Adapter: GatehouseAdapterClass;
  dispose(): Promise<void>;
}

export async function sqlAdapterFixture(): Promise<AdapterFixture> {
  const database = await createTestDatabase();
  return { Adapter: createSqlAdapter(database.db), dispose: () => database.dispose() };
}

export async function redisAdapterFixture(redisUrl: string): Promise<AdapterFixture> {
  const redis = await openRedis(redisUrl);
  const prefix = uniquePrefix();
  return {
    Adapter: createRedisAdapter(redis, prefix),
    async dispose() {
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
      redis.destroy();
    },
  };
}
