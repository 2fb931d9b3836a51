// A migrated, isolated database per test file: a fresh schema on the real PostgreSQL when
// DATABASE_URL is set, otherwise an in-memory PGlite.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/store/db.ts';

export interface TestDatabase extends Database {
  /** set on PostgreSQL: the isolated schema, for processes started by the test. */
  schemaName: string | undefined;
  dispose(): Promise<void>;
}

export const testDatabaseUrl = () => process.env.DATABASE_URL || undefined;
export const backendName = () => (testDatabaseUrl() ? 'PostgreSQL' : 'PGlite');

export async function createTestDatabase(): Promise<TestDatabase> {
  const url = testDatabaseUrl();
  const schemaName = url ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const database = await openDatabase({ databaseUrl: url, dataDir: '', role: 'server', inMemory: !url, schemaName, poolSize: 4 });
  await database.migrate();
  return {
    ...database,
    schemaName,
    async dispose() {
      await database.close();
      if (url && schemaName) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schemaName} CASCADE`);
        await client.end();
      }
    },
  };
}
