// The queries behind User Management and the MFA policy page: MFA Status from one expression (an
// unconfirmed enrolment is Inactive), search, filters and keyset pages that neither skip nor repeat
// rows, the count of accounts without MFA, and a policy switch's "on since" kept while it stays on.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`User Management and policy queries on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let dist: string;
  let org: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    dist = (await repos.tenants.create({ kind: 'distributor', name: 'Dist', parentId: platform.id })).id;
    org = (await repos.tenants.create({ kind: 'organization', name: 'Org', parentId: dist })).id;
    for (const [key, email, name, role] of [
      ['alice', 'Alice@Example.com', 'Alice Able', 'owner'],
      ['bob', 'bob@example.com', 'Bob Baker', 'admin'],
      ['carol', 'carol@example.com', null, 'user'],
      ['dave', 'dave_100%@example.com', 'Dave', 'user'],
      ['erin', 'erin@example.com', 'Erin', 'support'],
    ] as const) {
      ids[key] = (await repos.accounts.create({ tenantId: dist, email, name, role, passwordHash: null })).id;
    }
    ids.olga = (await repos.accounts.create({ tenantId: org, email: 'olga@example.com', passwordHash: null })).id;
    await repos.authenticators.replaceTotpWithImported({ accountId: ids.alice!, label: 'Phone', secretEnc: 'sealed-secret' });
    // bob had an authenticator and removed it: Inactive again
    const removed = await repos.authenticators.replaceTotpWithImported({ accountId: ids.bob!, label: 'Phone', secretEnc: 'sealed-secret' });
    await repos.authenticators.remove(ids.bob!, removed.id);
    await repos.accounts.setStatus(ids.erin!, 'disabled');
  });
  afterAll(() => database.dispose());

  const emails = (rows: { email: string }[]) => rows.map((r) => r.email);

  it('gives MFA Status Active only to an account with an authenticator', async () => {
    const rows = await repos.accounts.search({ tenantIds: [dist], limit: 50 });
    expect(Object.fromEntries(rows.map((r) => [r.email, r.mfaActive]))).toEqual({
      'Alice@Example.com': true,
      'bob@example.com': false,
      'carol@example.com': false,
      'dave_100%@example.com': false,
      'erin@example.com': false,
    });
    expect(emails(await repos.accounts.search({ tenantIds: [dist], mfa: 'active', limit: 50 }))).toEqual(['Alice@Example.com']);
    expect(emails(await repos.accounts.search({ tenantIds: [dist], mfa: 'inactive', limit: 50 }))).toEqual(['bob@example.com', 'carol@example.com', 'dave_100%@example.com', 'erin@example.com']);
  });

  it('searches email and name in any letter case, treating % and _ as plain characters', async () => {
    expect(emails(await repos.accounts.search({ tenantIds: [dist], text: 'ALICE', limit: 50 }))).toEqual(['Alice@Example.com']);
    expect(emails(await repos.accounts.search({ tenantIds: [dist], text: 'baker', limit: 50 }))).toEqual(['bob@example.com']);
    expect(emails(await repos.accounts.search({ tenantIds: [dist], text: '100%', limit: 50 }))).toEqual(['dave_100%@example.com']);
    expect(emails(await repos.accounts.search({ tenantIds: [dist], text: '_', limit: 50 }))).toEqual(['dave_100%@example.com']);
    expect(emails(await repos.accounts.search({ tenantIds: [dist], role: 'support', status: 'disabled', limit: 50 }))).toEqual(['erin@example.com']);
    expect(await repos.accounts.search({ tenantIds: [], limit: 50 })).toEqual([]);
    expect(emails(await repos.accounts.search({ tenantIds: [org], limit: 50 }))).toEqual(['olga@example.com']);
  });

  it('pages by (email, id) without skipping or repeating a row', async () => {
    const seen: string[] = [];
    let after: { email: string; id: string } | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await repos.accounts.search({ tenantIds: [dist], limit: 2, after });
      if (page.length === 0) break;
      seen.push(...emails(page));
      const last = page[page.length - 1]!;
      after = { email: last.email.toLowerCase(), id: last.id };
    }
    expect(seen).toEqual(emails(await repos.accounts.search({ tenantIds: [dist], limit: 50 })));
  });

  it('counts active accounts without MFA per set of tenants', async () => {
    expect(await repos.accounts.countWithoutMfa([dist])).toBe(3); // bob (removed his authenticator), carol, dave; erin is disabled
    expect(await repos.accounts.countWithoutMfa([dist, org])).toBe(4);
    expect(await repos.accounts.countWithoutMfa([])).toBe(0);
  });

  it('keeps a switch’s "on since" while it stays on, resets it when turned on again, and checks the grace period', async () => {
    const first = new Date('2030-01-01T00:00:00Z');
    const later = new Date('2030-01-05T00:00:00Z');
    const on = await repos.tenants.setPolicy(dist, { enforceMfaOrganizations: true, mfaGraceDays: 7, now: first });
    expect(on).toMatchObject({ enforceMfaOrganizations: true, enforceMfaOrganizationsSince: first, enforceMfaPartnerUsersSince: null, mfaGraceDays: 7 });
    const still = await repos.tenants.setPolicy(dist, { enforceMfaOrganizations: true, enforceMfaPartnerUsers: true, now: later });
    expect(still).toMatchObject({ enforceMfaOrganizationsSince: first, enforceMfaPartnerUsersSince: later });
    const off = await repos.tenants.setPolicy(dist, { enforceMfaOrganizations: false, now: later });
    expect(off).toMatchObject({ enforceMfaOrganizations: false, enforceMfaOrganizationsSince: null, enforceMfaPartnerUsersSince: later });
    const again = await repos.tenants.setPolicy(dist, { enforceMfaOrganizations: true, now: later });
    expect(again.enforceMfaOrganizationsSince).toEqual(later);
    await expect(repos.tenants.setPolicy(dist, { mfaGraceDays: 31 })).rejects.toMatchObject({ status: 400, code: 'invalid_grace_period' });
    await expect(repos.tenants.setPolicy(org, { enforceMfaPartnerUsers: true })).rejects.toMatchObject({ code: 'policy_not_applicable' });
  });
});
