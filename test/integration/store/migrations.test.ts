// Migrations: the same set builds an empty database, and running it again on a database in use is a
// no-op that keeps the data (every instance migrates at start-up).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrationsFolder, queryRows } from '../../../src/store/db.ts';
import { createRepos } from '../../../src/store/repos.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const EXPECTED_TABLES = [
  'account_links', 'accounts', 'audit_events', 'authenticators', 'clients', 'cookie_keys', 'counters', 'email_tokens', 'kv_entries',
  'mail_queue', 'mfa_lockouts', 'mfa_recovery_codes', 'oidc_payloads', 'signing_keys', 'tenants', 'upstream_idps',
];

describe(`migrations on ${backendName()}`, () => {
  const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  let database: TestDatabase;
  let schemaName: string | undefined;

  const tables = async () =>
    (
      await queryRows<{ table_name: string }>(
        database.db,
        sql`select table_name from information_schema.tables where table_schema = ${schemaName ?? 'public'} and table_type = 'BASE TABLE' order by table_name`,
      )
    ).map((r) => r.table_name);
  const appliedMigrations = async () => {
    const table = schemaName ? sql.raw(`${schemaName}.__drizzle_migrations`) : sql.raw('drizzle.__drizzle_migrations');
    const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${table}`);
    return row?.n;
  };

  beforeAll(async () => {
    // this test wants the database before its first migration
    database = await createTestDatabase({ migrated: false });
    ({ schemaName } = database);
  });
  afterAll(() => database.dispose());

  it('builds every table on an empty database', async () => {
    expect(await tables()).toEqual([]);
    await database.migrate();
    expect(await tables()).toEqual(expect.arrayContaining(EXPECTED_TABLES));
    expect(await appliedMigrations()).toBe(journal.entries.length);
  });

  it('does nothing when run again on a database with data, and keeps the data', async () => {
    const repos = createRepos(database.db);
    const platform = await repos.tenants.ensurePlatform('Kept');
    const account = await repos.accounts.create({ tenantId: platform.id, email: 'kept@example.com', passwordHash: 'h' });

    await database.migrate();
    await database.migrate();

    expect(await appliedMigrations()).toBe(journal.entries.length);
    expect((await repos.tenants.getPlatform())?.id).toBe(platform.id);
    expect((await repos.accounts.findById(account.id))?.email).toBe('kept@example.com');
  });
});
