// The email switch of an email change, in SQL (DESIGN.md §12.3): one conditional UPDATE that applies
// only while the account still has the old address and its password has not changed since the
// request; the tenant's unique address index decides a race for the new address, even when both
// accounts try at the same moment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { accounts } from '../../../src/store/schema.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { uniq } from '../../helpers/seed.ts';

describe(`switching an account's email address on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let tenantId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    tenantId = (await repos.tenants.ensurePlatform('Platform')).id;
  });
  afterAll(() => database.dispose());

  const account = async () => repos.accounts.create({ tenantId, email: `Old-${uniq()}@Example.com`, passwordHash: 'h' });
  const row = async (id: string) => (await database.db.select({ email: accounts.email, verified: accounts.emailVerified }).from(accounts).where(eq(accounts.id, id)))[0];
  const later = () => new Date(Date.now() + 60_000);

  it('switches the old address (any letter case) to the new one, verified', async () => {
    const a = await account();
    expect(await repos.accountEmail.switchEmail(a.id, a.email.toLowerCase(), 'new-one@example.net', later())).toBe('changed');
    expect(await row(a.id)).toEqual({ email: 'new-one@example.net', verified: true });
  });

  it('is stale when the account no longer has the old address, or its password changed after the request', async () => {
    const a = await account();
    expect(await repos.accountEmail.switchEmail(a.id, 'someone-else@example.com', `x-${uniq()}@example.net`, later())).toBe('stale');
    const requestedAt = new Date(Date.now() - 60_000);
    await repos.accounts.updatePasswordHash(a.id, 'h2');
    expect(await repos.accountEmail.switchEmail(a.id, a.email, `y-${uniq()}@example.net`, requestedAt)).toBe('stale');
    expect(await row(a.id)).toEqual({ email: a.email, verified: false });
  });

  it('is taken when another account of the tenant has the address, and exactly one of two simultaneous switches wins', async () => {
    const a = await account();
    const b = await account();
    const wanted = `Wanted-${uniq()}@example.net`;
    const outcomes = await Promise.all([repos.accountEmail.switchEmail(a.id, a.email, wanted, later()), repos.accountEmail.switchEmail(b.id, b.email, wanted.toLowerCase(), later())]);
    expect(outcomes.sort()).toEqual(['changed', 'taken']);
    const rows = [await row(a.id), await row(b.id)];
    expect(rows.filter((r) => r?.email.toLowerCase() === wanted.toLowerCase())).toHaveLength(1);
  });
});
