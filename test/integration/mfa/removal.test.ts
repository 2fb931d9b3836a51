// Turning MFA off and removing authenticators under the tenant policy, with real repositories: an
// enforced account can neither disable MFA nor remove its last authenticator — not even with two
// removals racing for its last two — while an account without enforcement can do both.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { createSecurityEvents } from '../../../src/domain/events.ts';
import { createMfaRemoval } from '../../../src/domain/mfa/removal.ts';
import { tenantTreePolicy } from '../../../src/domain/mfa/policy-source.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`MFA removal under the policy on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let freeOrg: string;
  let enforcedOrg: string;
  let n = 0;

  const removal = () => createMfaRemoval({ ...repos, events: createSecurityEvents(repos.audit, { notify: async () => undefined }), policy: tenantTreePolicy });
  const withAuthenticators = async (tenantId: string, count: number) => {
    const account = await repos.accounts.create({ tenantId, email: `m${++n}@example.com`, passwordHash: 'h' });
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const a = await repos.authenticators.addTotp({ accountId: account.id, label: `Device ${i}`, secretEnc: `s${i}`, lastUsedStep: 1, source: 'enrolled' }, { onlyIfNone: false });
      ids.push(a?.id ?? '');
    }
    await repos.recoveryCodes.replace(account.id, ['h1', 'h2']);
    const loaded = await repos.accounts.findById(account.id);
    if (!loaded) throw new Error('account missing');
    return { account: loaded, ids };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    const free = await repos.tenants.create({ kind: 'distributor', name: 'Free', parentId: platform.id });
    freeOrg = (await repos.tenants.create({ kind: 'organization', name: 'Free Org', parentId: free.id })).id;
    const strict = await repos.tenants.create({ kind: 'distributor', name: 'Strict', parentId: platform.id });
    await repos.tenants.setPolicy(strict.id, { enforceMfaOrganizations: true });
    enforcedOrg = (await repos.tenants.create({ kind: 'organization', name: 'Strict Org', parentId: strict.id })).id;
  });
  afterAll(() => database.dispose());

  it('refuses an enforced account turning MFA off, and keeps its authenticators and codes', async () => {
    const { account } = await withAuthenticators(enforcedOrg, 1);
    await expect(removal().disable(account, {})).rejects.toMatchObject({ code: 'mfa_enforced', status: 403 });
    expect(await repos.authenticators.countForAccount(account.id)).toBe(1);
    expect(await repos.recoveryCodes.countUnused(account.id)).toBe(2);
  });

  it('lets an enforced account remove all but one authenticator; two racing removals of the last two leave one', async () => {
    const { account, ids } = await withAuthenticators(enforcedOrg, 3);
    expect(await removal().removeAuthenticator(account, ids[0] ?? '', {})).toEqual({ remaining: 2 });
    const outcomes = await Promise.allSettled([removal().removeAuthenticator(account, ids[1] ?? '', {}), removal().removeAuthenticator(account, ids[2] ?? '', {})]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { code: 'mfa_enforced' } });
    expect(await repos.authenticators.countForAccount(account.id)).toBe(1);
  });

  it('lets an account without enforcement remove its last authenticator (its codes go too) or turn MFA off', async () => {
    const one = await withAuthenticators(freeOrg, 1);
    expect(await removal().removeAuthenticator(one.account, one.ids[0] ?? '', {})).toEqual({ remaining: 0 });
    expect(await repos.recoveryCodes.countUnused(one.account.id)).toBe(0);
    const two = await withAuthenticators(freeOrg, 2);
    expect(await removal().disable(two.account, {})).toEqual({ authenticatorsRemoved: 2 });
    expect((await repos.audit.list({ target: two.account.id, limit: 5 })).map((e) => e.action)).toContain('mfa.disabled');
    await expect(removal().removeAuthenticator(two.account, two.ids[0] ?? '', {})).rejects.toMatchObject({ status: 404 });
  });
});
