// The audit log (DESIGN.md §12.7): every security outcome is recorded, and an admin pages through
// the events of a tenant, newest first.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`audit log on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    tenantA = (await repos.tenants.create({ kind: 'distributor', name: 'A', parentId: platform.id })).id;
    tenantB = (await repos.tenants.create({ kind: 'distributor', name: 'B', parentId: platform.id })).id;
    for (let i = 0; i < 5; i++) {
      await repos.audit.record({ action: 'mfa.totp.check_failed', tenantId: tenantA, target: `account:${i % 2}`, ip: '192.0.2.1', userAgent: 'UA', requestId: `r${i}`, detail: { i } });
    }
    await repos.audit.record({ action: 'mfa.reset_by_admin', tenantId: tenantB, actorAccountId: '00000000-0000-4000-8000-000000000001', target: 'account:9' });
  });
  afterAll(() => database.dispose());

  it('records an event with its context', async () => {
    const [latest] = await repos.audit.list({ tenantId: tenantB, limit: 1 });
    expect(latest).toMatchObject({ action: 'mfa.reset_by_admin', target: 'account:9', detail: {}, actorAccountId: '00000000-0000-4000-8000-000000000001' });
    expect(latest?.at).toBeInstanceOf(Date);
  });

  it("lists one tenant's events, newest first, by page", async () => {
    const page1 = await repos.audit.list({ tenantId: tenantA, limit: 3 });
    expect(page1.map((e) => e.detail)).toEqual([{ i: 4 }, { i: 3 }, { i: 2 }]);
    const page2 = await repos.audit.list({ tenantId: tenantA, limit: 3, before: page1[page1.length - 1]!.id });
    expect(page2.map((e) => e.detail)).toEqual([{ i: 1 }, { i: 0 }]);
  });

  it('filters by action and by target', async () => {
    expect(await repos.audit.list({ action: 'mfa.reset_by_admin', limit: 10 })).toHaveLength(1);
    expect((await repos.audit.list({ target: 'account:1', limit: 10 })).map((e) => e.requestId)).toEqual(['r3', 'r1']);
    expect(await repos.audit.list({ tenantId: 'not-a-uuid', limit: 10 })).toEqual([]);
  });
});
