// Phishing-resistant MFA settings over /api/v1 (issue 15 part 4, DESIGN.md §8): a client's
// require_phishing_resistant_mfa and a partner's enforce_phr_* switches are set by admins, validated
// (a wrong type is a 400 naming the field, never a 500), audited, and refused to support — a platform
// operator of rank support may not change a client's MFA requirement, a partner's support may not
// change its policy — with no row changed by a refusal.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, seedAccount, seedTenant } from '../../helpers/seed.ts';
import type { UserAgent } from '../../helpers/user-agent.ts';
import { importAuthenticator } from '../../helpers/mfa.ts';
import { adminWithMfa, signInToConsole } from '../admin/console-flow.ts';

const ALL_SCOPES = 'users:read users:write mfa:reset policy:write clients:write audit:read tenants:write';

describe(`phishing-resistant MFA settings over the admin API (${backendName()})`, () => {
  let gh: TestGatehouse;
  let dist: { id: string; slug: string };
  let platformToken: string;
  let distToken: string;
  let supportPartnerToken: string;
  let supportOperatorToken: string;

  const api = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${gh.issuer}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  async function serviceToken(tenantId: string) {
    const registered = await gh.runtime.clients.register({ name: `Service ${tenantId.slice(0, 4)}`, grants: ['client_credentials'], tenantId, scope: ALL_SCOPES });
    const basic = Buffer.from(`${registered.client_id}:${registered.client_secret ?? ''}`).toString('base64');
    const res = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: ALL_SCOPES }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }

  const consoleToken = async (agent: UserAgent) => {
    const jar = (agent as unknown as { cookies: Map<string, { name: string; value: string }> }).cookies;
    const id = [...jar.values()].find((c) => c.name.endsWith('gh_admin_session'))?.value ?? '';
    const session = await gh.runtime.kv.get<{ accessToken: string }>(`console:admin:session:${createHash('sha256').update(id).digest('base64url')}`);
    return session?.accessToken ?? '';
  };

  beforeAll(async () => {
    gh = await startTestGatehouse();
    const platform = await gh.runtime.repos.tenants.getPlatform();
    if (!platform) throw new Error('no platform tenant');
    dist = await seedTenant(gh.runtime, 'distributor', 'Phr Dist');
    const org = await seedTenant(gh.runtime, 'organization', 'Phr Org', dist.id);
    // two organization users: one with an authenticator app, one with nothing; neither has a passkey
    await importAuthenticator(gh.runtime, await seedAccount(gh.runtime, org.id));
    await seedAccount(gh.runtime, org.id);
    platformToken = await serviceToken(platform.id);
    distToken = await serviceToken(dist.id);
    supportPartnerToken = await consoleToken((await signInToConsole(gh, await adminWithMfa(gh, dist.id, 'support'))).agent);
    const operator = await gh.runtime.directory.createAccount({ tenant: platform.id, email: `operator-support-${Date.now()}@example.com`, password: PASSWORD, role: 'support', platformOperator: true });
    const operatorApp = await importAuthenticator(gh.runtime, operator);
    supportOperatorToken = await consoleToken((await signInToConsole(gh, { id: operator.id, email: operator.email, app: operatorApp })).agent);
  });
  afterAll(() => gh.stop());

  it('registers a client that requires phishing-resistant MFA, shows it, and audits the setting', async () => {
    const res = await api(platformToken, 'POST', '/clients', { name: 'Treasury', redirect_uris: ['https://treasury.test/cb'], require_phishing_resistant_mfa: true });
    expect(res.status).toBe(201);
    const { client } = (await res.json()) as { client: { client_id: string; require_phishing_resistant_mfa: boolean; require_mfa: boolean } };
    expect(client).toMatchObject({ require_phishing_resistant_mfa: true, require_mfa: false });
    expect((await gh.runtime.repos.clients.find(client.client_id))?.requirePhishingResistantMfa).toBe(true);
    const [created] = await gh.runtime.repos.audit.list({ action: 'client.created', target: client.client_id, limit: 1 });
    expect(created?.detail).toMatchObject({ require_phishing_resistant_mfa: true });

    const off = await api(platformToken, 'PATCH', `/clients/${client.client_id}`, { require_phishing_resistant_mfa: false });
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ require_phishing_resistant_mfa: false });
    const [updated] = await gh.runtime.repos.audit.list({ action: 'client.updated', target: client.client_id, limit: 1 });
    expect(updated?.detail).toMatchObject({ changed: ['requirePhishingResistantMfa'], require_phishing_resistant_mfa: false });
  });

  it('answers a setting of the wrong type with a 400 that names it, and changes nothing', async () => {
    const created = (await (await api(platformToken, 'POST', '/clients', { name: 'Payroll', redirect_uris: ['https://payroll.test/cb'] })).json()) as { client: { client_id: string } };
    for (const value of ['yes', 1, null]) {
      const res = await api(platformToken, 'PATCH', `/clients/${created.client.client_id}`, { require_phishing_resistant_mfa: value });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain('require_phishing_resistant_mfa');
    }
    const policy = await api(distToken, 'PATCH', `/tenants/${dist.slug}/policy`, { enforce_phr_organizations: 'on' });
    expect(policy.status).toBe(400);
    expect(JSON.stringify(await policy.json())).toContain('enforce_phr_organizations');
    expect((await gh.runtime.repos.clients.find(created.client.client_id))?.requirePhishingResistantMfa).toBe(false);
    expect((await gh.runtime.repos.tenants.findById(dist.id))?.enforcePhrOrganizations).toBe(false);
  });

  it('never lets a platform operator of rank support change a client or its MFA requirement', async () => {
    const created = (await (await api(platformToken, 'POST', '/clients', { name: 'Ledger', redirect_uris: ['https://ledger.test/cb'] })).json()) as { client: { client_id: string } };
    expect((await api(supportOperatorToken, 'GET', `/clients/${created.client.client_id}`)).status).toBe(200);
    const res = await api(supportOperatorToken, 'PATCH', `/clients/${created.client.client_id}`, { require_phishing_resistant_mfa: true });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('support may not change clients or their MFA requirement');
    const create = await api(supportOperatorToken, 'POST', '/clients', { name: 'Sneaky', redirect_uris: ['https://sneaky.test/cb'], require_phishing_resistant_mfa: false });
    expect(create.status).toBe(403);
    expect((await gh.runtime.repos.clients.find(created.client.client_id))?.requirePhishingResistantMfa).toBe(false);
  });

  it("sets a partner's phishing-resistant level for its organizations: counts the accounts without a passkey, audits, support may not", async () => {
    const refused = await api(supportPartnerToken, 'PATCH', `/tenants/${dist.slug}/policy`, { enforce_phr_organizations: true });
    expect(refused.status).toBe(403);
    expect((await gh.runtime.repos.tenants.findById(dist.id))?.enforcePhrOrganizations).toBe(false);

    const res = await api(distToken, 'PATCH', `/tenants/${dist.slug}/policy`, { enforce_phr_organizations: true, grace_days: 3 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      policy: { enforce_mfa_organizations: { on: false, accounts_without_mfa: 1, phishing_resistant: { on: true, accounts_without_passkey: 2 } }, grace_days: 3 },
      turned_on: [{ switch: 'organizations_phr', accounts_without_mfa: 2 }],
      turned_off: [],
    });
    const stored = await gh.runtime.repos.tenants.findById(dist.id);
    expect(stored?.enforcePhrOrganizationsSince).toBeInstanceOf(Date);
    const [event] = await gh.runtime.repos.audit.list({ action: 'mfa.policy.updated', tenantId: dist.id, limit: 1 });
    expect(event?.detail).toMatchObject({ enforce_phr_organizations: true, turned_on: ['organizations_phr'] });

    // support still sees it
    const seen = await api(supportPartnerToken, 'GET', `/tenants/${dist.slug}/policy`);
    expect(seen.status).toBe(200);
    expect(await seen.json()).toMatchObject({ enforce_mfa_organizations: { phishing_resistant: { on: true } } });

    const off = await api(distToken, 'PATCH', `/tenants/${dist.slug}/policy`, { enforce_phr_organizations: false });
    expect(await off.json()).toMatchObject({ turned_off: ['organizations_phr'] });
    expect((await gh.runtime.repos.tenants.findById(dist.id))?.enforcePhrOrganizationsSince).toBeNull();
  });
});
