// The sweeper deletes what expired (oidc-provider checks expiry but never deletes: that is ours) and nothing else.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { createSqlAdapter } from '../../../src/oidc/adapters/sql-adapter.ts';
import { sweepExpired } from '../../../src/oidc/adapters/sweeper.ts';
import { queryRows } from '../../../src/store/db.ts';
import { createKv } from '../../../src/store/kv.ts';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`expiry sweep on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
  });
  afterAll(() => database.dispose());

  const count = async (table: string) =>
    (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]?.n;

  it('deletes expired artifacts, counters, values (pending enrolments among them) and spent links — and keeps the rest', async () => {
    const Adapter = createSqlAdapter(database.db);
    await new Adapter('AccessToken').upsert('short', { kind: 'AccessToken' }, 60);
    await new Adapter('AccessToken').upsert('long', { kind: 'AccessToken' }, 3600);
    await new Adapter('Client').upsert('forever', { client_id: 'forever' });
    const kv = createKv({ db: database.db });
    await kv.increment('short', 60);
    await kv.set('long', 1, 3600);

    const platform = await repos.tenants.ensurePlatform('P');
    const linked = await repos.accounts.create({ tenantId: platform.id, email: 'p@example.com', passwordHash: 'h' });
    const confirmed = await repos.accounts.create({ tenantId: platform.id, email: 'c@example.com', passwordHash: 'h' });
    await repos.authenticators.replaceTotpWithImported({ accountId: confirmed.id, label: 'Phone', secretEnc: 's' });
    await repos.emailTokens.create({ accountId: linked.id, purpose: 'x', tokenHash: 'used', expiresAt: new Date(Date.now() + 3600_000) });
    await repos.emailTokens.consume('used', 'x', new Date());
    await repos.emailTokens.create({ accountId: linked.id, purpose: 'x', tokenHash: 'expiring', expiresAt: new Date(Date.now() + 60_000) });
    await repos.emailTokens.create({ accountId: linked.id, purpose: 'x', tokenHash: 'live', expiresAt: new Date(Date.now() + 3600_000) });

    const result = await sweepExpired(database.db, new Date(Date.now() + 120_000));
    expect(result).toEqual({ oidcPayloads: 1, kv: 1, emailTokens: 2 });
    expect(await new Adapter('AccessToken').find('long')).toBeDefined();
    expect(await new Adapter('Client').find('forever')).toBeDefined();
    expect(await kv.get('long')).toBe(1);
    expect(await repos.authenticators.countForAccount(confirmed.id)).toBe(1);
    expect(await repos.emailTokens.find('live', 'x')).toBeDefined();
    expect(await count('oidc_payloads')).toBe(2);
  });
});
