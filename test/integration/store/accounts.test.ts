// Accounts: one per (tenant, email), email case-insensitive; one email may have accounts in several
// tenants (DESIGN.md §4). findById feeds findAccount on every authorization, in one query.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import type { Tenant } from '../../../src/store/repositories/tenants.ts';
import { GatehouseError } from '../../../src/domain/errors.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`accounts on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let platform: Tenant;
  let distributor: Tenant;
  let organization: Tenant;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    platform = await repos.tenants.ensurePlatform('Platform');
    distributor = await repos.tenants.create({ kind: 'distributor', name: 'Distributor', parentId: platform.id });
    organization = await repos.tenants.create({ kind: 'organization', name: 'Organization', parentId: distributor.id });
  });
  afterAll(() => database.dispose());

  it('refuses a second account for the same email in one tenant, whatever the letter case', async () => {
    await repos.accounts.create({ tenantId: organization.id, email: 'Ann@Example.com', passwordHash: 'h1' });
    const attempt = repos.accounts.create({ tenantId: organization.id, email: 'ann@example.COM', passwordHash: 'h2' });
    await expect(attempt).rejects.toBeInstanceOf(GatehouseError);
    await expect(attempt).rejects.toMatchObject({ status: 409, code: 'account_exists' });
  });

  it('allows the same email in another tenant, each with its own password', async () => {
    const other = await repos.accounts.create({ tenantId: distributor.id, email: 'ann@example.com', passwordHash: 'h3', role: 'admin' });
    expect(other).toMatchObject({ role: 'admin', status: 'active', source: 'local', passwordHash: 'h3' });
    const matches = await repos.accounts.findByEmail('  ANN@example.com ');
    expect(matches).toHaveLength(2);
    expect(matches.map((m) => m.tenant.name).sort()).toEqual(['Distributor', 'Organization']);
    expect(matches.map((m) => m.passwordHash).sort()).toEqual(['h1', 'h3']);
    expect(matches.find((m) => m.tenant.id === organization.id)?.tenant.slug).toBe(organization.slug);
  });

  it('refuses an account in a tenant that does not exist', async () => {
    await expect(
      repos.accounts.create({ tenantId: '00000000-0000-4000-8000-000000000000', email: 'x@example.com', passwordHash: null }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('finds the account of one tenant by email', async () => {
    expect((await repos.accounts.findInTenant(organization.id, 'ANN@example.com'))?.passwordHash).toBe('h1');
    expect(await repos.accounts.findInTenant(platform.id, 'ann@example.com')).toBeUndefined();
  });

  it('joins the tenant, the parent policy and the MFA status in findById', async () => {
    await repos.tenants.setPolicy(distributor.id, { enforceMfaOrganizations: true });
    const account = await repos.accounts.create({ tenantId: organization.id, email: 'bob@example.com', name: 'Bob', passwordHash: 'h' });
    const found = await repos.accounts.findById(account.id);
    expect(found).toMatchObject({
      id: account.id,
      email: 'bob@example.com',
      name: 'Bob',
      tenant: {
        id: organization.id,
        name: 'Organization',
        slug: organization.slug,
        kind: 'organization',
        parentId: distributor.id,
        enforceMfaPartnerUsers: false,
        enforceMfaOrganizations: false,
      },
      parent: { id: distributor.id, kind: 'distributor', enforceMfaPartnerUsers: false, enforceMfaOrganizations: true },
      mfaStatus: 'inactive',
      mfaSince: null,
    });

    const added = await repos.authenticators.replaceTotpWithImported({ accountId: account.id, label: 'Phone', secretEnc: 'sealed' });
    expect(await repos.accounts.findById(account.id)).toMatchObject({ mfaStatus: 'active', mfaSince: added.confirmedAt });
  });

  it('has no parent policy for an account of the platform', async () => {
    const operator = await repos.accounts.create({ tenantId: platform.id, email: 'op@example.com', passwordHash: 'h', platformOperator: true, role: 'owner' });
    const found = await repos.accounts.findById(operator.id);
    expect(found?.parent).toBeNull();
    expect(found?.platformOperator).toBe(true);
  });

  it('answers undefined for an unknown or malformed id', async () => {
    expect(await repos.accounts.findById('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await repos.accounts.findById('not-a-uuid')).toBeUndefined();
  });

  it('updates the password hash, the status and the last login', async () => {
    const account = await repos.accounts.create({ tenantId: organization.id, email: 'carol@example.com', passwordHash: 'old' });
    expect(await repos.accounts.updatePasswordHash(account.id, 'new')).toBe(true);
    expect(await repos.accounts.setStatus(account.id, 'disabled')).toBe(true);
    await repos.accounts.recordLogin(account.id);
    const found = await repos.accounts.findById(account.id);
    expect(found).toMatchObject({ passwordHash: 'new', status: 'disabled' });
    expect(found?.lastLoginAt).toBeInstanceOf(Date);
    expect(found?.passwordChangedAt).toBeInstanceOf(Date);
    expect(await repos.accounts.setStatus('00000000-0000-4000-8000-000000000000', 'active')).toBe(false);
  });

  it('lists the accounts of a tenant with their MFA status (active with one or more authenticators), without password hashes', async () => {
    const tenant = await repos.tenants.create({ kind: 'organization', name: 'Listed', parentId: distributor.id });
    const one = await repos.accounts.create({ tenantId: tenant.id, email: 'a@example.com', passwordHash: 'h' });
    const two = await repos.accounts.create({ tenantId: tenant.id, email: 'b@example.com', passwordHash: 'h' });
    const removed = await repos.accounts.create({ tenantId: tenant.id, email: 'c@example.com', passwordHash: 'h' });
    await repos.accounts.create({ tenantId: tenant.id, email: 'd@example.com', passwordHash: 'h' });
    await repos.authenticators.replaceTotpWithImported({ accountId: one.id, label: 'Phone', secretEnc: 'sealed' });
    for (const label of ['Old phone', 'New phone']) {
      await repos.authenticators.addTotp({ accountId: two.id, label, secretEnc: 'sealed', lastUsedStep: 1, source: 'enrolled' }, { onlyIfNone: false });
    }
    await repos.authenticators.replaceTotpWithImported({ accountId: removed.id, label: 'Phone', secretEnc: 'sealed' });
    expect(await repos.authenticators.removeAllForAccount(removed.id)).toBe(1);

    const listed = await repos.accounts.listByTenant(tenant.id);
    expect(listed.map((a) => [a.email, a.mfaStatus])).toEqual([
      ['a@example.com', 'active'],
      ['b@example.com', 'active'],
      ['c@example.com', 'inactive'],
      ['d@example.com', 'inactive'],
    ]);
    for (const a of listed) expect(a).not.toHaveProperty('passwordHash');
  });
});
