// The oidc-provider storage back ends under test: the SQL adapter on the test database, the Redis
// adapter under a key prefix of its own (its keys are deleted afterwards), and the LMDB adapter of the
// embedded default in a temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GatehouseAdapterClass } from '../../src/oidc/adapters/sql-adapter.ts';
import { createSqlAdapter } from '../../src/oidc/adapters/sql-adapter.ts';
import { createRedisAdapter } from '../../src/oidc/adapters/redis-adapter.ts';
import { createLmdbAdapter } from '../../src/oidc/adapters/lmdb-adapter.ts';
import { openLmdbStore, type LmdbStore } from '../../src/store/lmdb.ts';
import { openRedis, scanKeys } from '../../src/store/redis.ts';
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

export async function redisAdapterFixture(redisUrl: string, options: { cluster?: boolean } = {}): Promise<AdapterFixture> {
  const redis = await openRedis(redisUrl, { cluster: options.cluster ?? false });
  const prefix = uniquePrefix();
  return {
    Adapter: createRedisAdapter(redis, prefix),
    async dispose() {
      for await (const keys of scanKeys(redis, `${prefix}*`)) await Promise.all(keys.map((key) => redis.del(key)));
      redis.destroy();
    },
  };
}

/** An LMDB store in a fresh temporary DATA_DIR; `dispose` closes it and removes the directory. */
export function temporaryLmdb(): { store: LmdbStore; dataDir: string; dispose(): Promise<void> } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-lmdb-'));
  const store = openLmdbStore(dataDir);
  return {
    store,
    dataDir,
    async dispose() {
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function lmdbAdapterFixture(): Promise<AdapterFixture> {
  const lmdb = temporaryLmdb();
  return { Adapter: createLmdbAdapter(lmdb.store), dispose: lmdb.dispose };
}
