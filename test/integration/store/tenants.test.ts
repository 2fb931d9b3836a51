// The tenant tree (DESIGN.md §4): platform → distributor → sub_reseller → organization, and a
// distributor may own organizations directly. Anything else is refused with a sentence that says why.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import type { Tenant, TenantKind } from '../../../src/store/repositories/tenants.ts';
import { slugify } from '../../../src/store/repositories/tenants.ts';
import { GatehouseError } from '../../../src/domain/errors.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

async function rejection(promise: Promise<unknown>): Promise<GatehouseError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof GatehouseError) return e;
    throw e;
  }
  throw new Error('expected a GatehouseError');
}

describe(`tenant tree on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let platform: Tenant;
  let distributor: Tenant;
  let subReseller: Tenant;
  let organization: Tenant;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
  });
  afterAll(() => database.dispose());

  it('creates the platform once, even when several instances start together', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => repos.tenants.ensurePlatform('Acme Cloud')));
    const ids = new Set(results.map((t) => t.id));
    expect(ids.size).toBe(1);
    platform = results[0]!;
    expect(platform).toMatchObject({ kind: 'platform', parentId: null, name: 'Acme Cloud', slug: 'acme-cloud' });
    expect((await repos.tenants.ensurePlatform('Another name')).id).toBe(platform.id);
    expect((await repos.tenants.getPlatform())?.id).toBe(platform.id);
  });

  it('refuses a second root', async () => {
    const error = await rejection(repos.tenants.create({ kind: 'platform', name: 'Second', parentId: null }));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/only one root/);
  });

  it('builds distributor → sub-reseller → organization, and an organization directly under a distributor', async () => {
    distributor = await repos.tenants.create({ kind: 'distributor', name: 'North Distribution', parentId: platform.id });
    subReseller = await repos.tenants.create({ kind: 'sub_reseller', name: 'Fjord IT', parentId: distributor.id });
    organization = await repos.tenants.create({ kind: 'organization', name: 'Bakery Olsen', parentId: subReseller.id });
    const direct = await repos.tenants.create({ kind: 'organization', name: 'Direct Customer', parentId: distributor.id });
    expect(subReseller.parentId).toBe(distributor.id);
    expect(organization.parentId).toBe(subReseller.id);
    expect(direct.parentId).toBe(distributor.id);
    expect(organization.enforceMfaOrganizations).toBe(false);
  });

  const misplacements: Array<[string, TenantKind, () => string | null, RegExp]> = [
    ['a distributor under a distributor', 'distributor', () => distributor.id, /must be placed under the platform, not under a distributor/],
    ['a sub-reseller under the platform', 'sub_reseller', () => platform.id, /must be placed under a distributor, not under the platform/],
    ['a sub-reseller under a sub-reseller', 'sub_reseller', () => subReseller.id, /must be placed under a distributor, not under a sub-reseller/],
    ['an organization under the platform', 'organization', () => platform.id, /must be placed under a distributor or a sub-reseller/],
    ['an organization under an organization', 'organization', () => organization.id, /not under an organization/],
    ['a distributor without parent', 'distributor', () => null, /needs a parent tenant/],
    ['the platform under a distributor', 'platform', () => distributor.id, /cannot have a parent/],
  ];
  it.each(misplacements)('refuses %s with a 400 that says why', async (_label, kind, parentId, message) => {
    const error = await rejection(repos.tenants.create({ kind, name: 'Misplaced', parentId: parentId() }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_tenant_parent');
    expect(error.message).toMatch(message);
  });

  it('refuses a parent that does not exist', async () => {
    const error = await rejection(
      repos.tenants.create({ kind: 'organization', name: 'Orphan', parentId: '00000000-0000-4000-8000-000000000000' }),
    );
    expect(error.status).toBe(404);
  });

  it('derives a unique slug from the name', async () => {
    expect(slugify('Müller & Söhne GmbH')).toBe('muller-sohne-gmbh');
    expect(slugify('!!!')).toBe('tenant');
    const names = await Promise.all(
      Array.from({ length: 5 }, () => repos.tenants.create({ kind: 'organization', name: 'Same Name', parentId: distributor.id })),
    );
    expect(new Set(names.map((t) => t.slug)).size).toBe(5);
    expect(names.map((t) => t.slug)).toContain('same-name');
    for (const t of names) expect(t.slug).toMatch(/^same-name(-\d+)?$/);
  });

  it('keeps an explicit slug, and refuses one that is taken', async () => {
    const t = await repos.tenants.create({ kind: 'organization', name: 'Explicit', parentId: distributor.id, slug: 'Custom-Slug' });
    expect(t.slug).toBe('custom-slug');
    const taken = await rejection(repos.tenants.create({ kind: 'organization', name: 'Other', parentId: distributor.id, slug: 'custom-slug' }));
    expect(taken.status).toBe(409);
    const invalid = await rejection(repos.tenants.create({ kind: 'organization', name: 'Other', parentId: distributor.id, slug: 'no spaces' }));
    expect(invalid.status).toBe(400);
  });

  it('finds a tenant by id, by slug, or by either', async () => {
    expect((await repos.tenants.findById(distributor.id))?.name).toBe('North Distribution');
    expect(await repos.tenants.findById('not-a-uuid')).toBeUndefined();
    expect((await repos.tenants.findBySlug('fjord-it'))?.id).toBe(subReseller.id);
    expect((await repos.tenants.findByIdOrSlug(organization.id))?.id).toBe(organization.id);
    expect((await repos.tenants.findByIdOrSlug('bakery-olsen'))?.id).toBe(organization.id);
    expect(await repos.tenants.findByIdOrSlug('nobody')).toBeUndefined();
    const all = await repos.tenants.list();
    expect(all.map((t) => t.id)).toEqual(expect.arrayContaining([platform.id, distributor.id, subReseller.id, organization.id]));
  });

  it('sets the MFA policy of partner tenants only', async () => {
    const updated = await repos.tenants.setPolicy(distributor.id, { enforceMfaOrganizations: true });
    expect(updated).toMatchObject({ enforceMfaOrganizations: true, enforceMfaPartnerUsers: false });
    const both = await repos.tenants.setPolicy(subReseller.id, { enforceMfaPartnerUsers: true });
    expect(both.enforceMfaPartnerUsers).toBe(true);
    const error = await rejection(repos.tenants.setPolicy(organization.id, { enforceMfaPartnerUsers: true }));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/Only partner tenants/);
    expect((await rejection(repos.tenants.setPolicy('00000000-0000-4000-8000-000000000000', {}))).status).toBe(404);
  });
});
