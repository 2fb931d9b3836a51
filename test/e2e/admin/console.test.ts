// The admin console end to end: a first-party client of Gatehouse that signs admins in through the
// same interaction as every relying party (password, then the authenticator code: it asks for
// acr=mfa), keeps a server-side session, changes the MFA policy through its page (CSRF-protected),
// signs out through RP-initiated logout, and whose own access token calls the admin API.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, seedAccount, seedTenant } from '../../helpers/seed.ts';
import { UserAgent, findForm, textOf } from '../../helpers/user-agent.ts';
import { isEnrolPage, isPasswordPage, importAuthenticator } from '../../helpers/mfa.ts';
import { adminWithMfa, signInToConsole } from './console-flow.ts';

/** The browser's console cookie (the UserAgent keeps its jar private; a test may look into it). */
const consoleSessionId = (agent: UserAgent): string | undefined => {
  const jar = (agent as unknown as { cookies: Map<string, { name: string; value: string }> }).cookies;
  return [...jar.values()].find((c) => c.name.endsWith('gh_admin_session'))?.value;
};

describe(`admin console (${backendName()})`, () => {
  let gh: TestGatehouse;
  let dist: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    dist = await seedTenant(gh.runtime, 'distributor', 'Northwind Distribution');
  });
  afterAll(() => gh.stop());

  it('registers itself as a first-party public client that requires MFA, once', async () => {
    const client = await gh.runtime.repos.clients.find('gatehouse-admin');
    expect(client).toMatchObject({ firstParty: true, requireMfa: true, secretHash: null, disabled: false });
    expect(client?.metadata).toMatchObject({ redirect_uris: [`${gh.issuer}/admin/callback`], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
    await gh.gatehouse.admin.start(); // a second start (another instance) changes nothing
    expect((await gh.runtime.repos.clients.find('gatehouse-admin'))?.updatedAt).toEqual(client?.updatedAt);
  });

  it('signs an admin in through the sign-in pages with password and code, and shows User Management with MFA Status', async () => {
    const admin = await adminWithMfa(gh, dist.id);
    const withoutMfa = await seedAccount(gh.runtime, dist.id, { name: 'No Factor' });
    const { page } = await signInToConsole(gh, admin);
    expect(page.url).toBe(`${gh.issuer}/admin/users`);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('User Management');
    expect(textOf(page.html)).toContain('Tenant in scope: Northwind Distribution (Distributor)');
    const row = (email: string) => new RegExp(`<tr data-user="${email.replace(/[.+]/g, '\\$&')}">([\\s\\S]*?)</tr>`).exec(page.html)?.[1] ?? '';
    expect(textOf(row(admin.email))).toContain('Active');
    expect(textOf(row(withoutMfa.email))).toContain('Inactive');
    const signedIn = await gh.runtime.repos.audit.list({ action: 'auth.signed_in', target: admin.id, limit: 1 });
    expect(signedIn[0]?.detail).toMatchObject({ client_id: 'gatehouse-admin', acr: 'urn:gatehouse:acr:mfa' });
  });

  it('sends an admin without MFA to set it up first (the console asks for acr=mfa)', async () => {
    const account = await seedAccount(gh.runtime, dist.id, { role: 'owner' });
    const agent = new UserAgent();
    const login = await agent.get(`${gh.issuer}/admin/`);
    expect(isPasswordPage(login)).toBe(true);
    const next = await agent.submit(login, '/login', { email: account.email, password: PASSWORD });
    expect(isEnrolPage(next)).toBe(true);
    expect(consoleSessionId(agent)).toBeUndefined();
  });

  it('changes the MFA policy through its page: CSRF-protected, success banner counting accounts without MFA', async () => {
    const tenant = await seedTenant(gh.runtime, 'distributor', 'Contoso Partners');
    const org = await seedTenant(gh.runtime, 'organization', 'Contoso Retail', tenant.id);
    const admin = await adminWithMfa(gh, tenant.id);
    await seedAccount(gh.runtime, org.id);
    await seedAccount(gh.runtime, org.id);
    const { agent } = await signInToConsole(gh, admin, '/admin/security');
    const page = await agent.get(`${gh.issuer}/admin/security`);
    expect(textOf(page.html)).toContain('Enforce MFA for all organizations');
    expect(textOf(page.html)).toContain('2 users in your organization have no MFA yet.');

    // a forged form (no CSRF token) is refused and changes nothing
    const forged = await agent.request(`${gh.issuer}/admin/security/mfa-policy`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ enforce_mfa_organizations: 'on', grace_days: '0' }),
    });
    expect(forged.status).toBe(403);
    expect((await gh.runtime.repos.tenants.findById(tenant.id))?.enforceMfaOrganizations).toBe(false);

    const saved = await agent.submit(page, '/security/mfa-policy', { enforce_mfa_organizations: 'on', grace_days: '7' });
    expect(saved.url).toBe(`${gh.issuer}/admin/security`);
    const banner = textOf(/<div[^>]*id="banner"[^>]*>([\s\S]*?)<\/div>/.exec(saved.html)?.[1] ?? '');
    expect(banner).toContain('Your MFA policy settings were saved.');
    expect(banner).toContain('Enforce MFA for all organizations is now active: 2 accounts in scope have no MFA yet');
    const stored = await gh.runtime.repos.tenants.findById(tenant.id);
    expect(stored).toMatchObject({ enforceMfaOrganizations: true, enforceMfaPartnerUsers: false, mfaGraceDays: 7 });
    expect(stored?.enforceMfaOrganizationsSince).toBeInstanceOf(Date);
    const [event] = await gh.runtime.repos.audit.list({ action: 'mfa.policy.updated', tenantId: tenant.id, limit: 1 });
    expect(event).toMatchObject({ actorAccountId: admin.id, detail: { turned_on: ['organizations'], grace_days: 7 } });
    // the banner is shown once
    expect((await agent.get(`${gh.issuer}/admin/security`)).html).not.toContain('id="banner"');
  });

  it("calls the admin API with the console's own access token (issued for the gatehouse-api resource)", async () => {
    const admin = await adminWithMfa(gh, dist.id);
    const { agent } = await signInToConsole(gh, admin);
    const id = consoleSessionId(agent) ?? '';
    const session = await gh.runtime.kv.get<{ accessToken: string }>(`console:admin:session:${createHash('sha256').update(id).digest('base64url')}`);
    const token = session?.accessToken ?? '';
    const [, payload] = token.split('.');
    expect(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())).toMatchObject({ sub: admin.id, client_id: 'gatehouse-admin', aud: 'gatehouse-api', acr: 'urn:gatehouse:acr:mfa' });
    const me = await fetch(`${gh.issuer}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ kind: 'account', id: admin.id, role: 'admin', tenant_id: dist.id, scopes: expect.arrayContaining(['users:read', 'policy:write']) });
    const patch = await fetch(`${gh.issuer}/api/v1/tenants/${dist.slug}/policy`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enforce_mfa_partner_users: true }),
    });
    expect(patch.status).toBe(200);
    expect(await patch.json()).toMatchObject({ policy: { enforce_mfa_partner_users: { on: true } }, turned_on: [{ switch: 'partner_users' }] });
    await gh.runtime.repos.tenants.setPolicy(dist.id, { enforceMfaPartnerUsers: false });
  });

  it('signs out through RP-initiated logout, after which console pages ask to sign in again', async () => {
    const admin = await adminWithMfa(gh, dist.id);
    const { agent, page } = await signInToConsole(gh, admin);
    const form = findForm(page.html, '/admin/logout');
    const res = await agent.request(new URL(form.action, gh.issuer).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form.hidden) });
    expect(res.status).toBe(303);
    const endSession = new URL(res.headers.get('location') ?? '');
    expect(endSession.pathname).toBe('/session/end');
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${gh.issuer}/admin/signed-out`);
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/);
    const confirm = await agent.get(endSession.href);
    const done = await agent.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(done.url).toBe(`${gh.issuer}/admin/signed-out`);
    expect(textOf(done.html)).toContain('You are signed out');
    expect(isPasswordPage(await agent.get(`${gh.issuer}/admin/users`))).toBe(true);
  });

  it('ends the console session when the Gatehouse session ends (an administrator signed the user out everywhere)', async () => {
    const admin = await adminWithMfa(gh, dist.id);
    const owner = await adminWithMfa(gh, dist.id, 'owner');
    const { agent } = await signInToConsole(gh, admin);
    const { agent: ownerAgent } = await signInToConsole(gh, owner);
    const users = await ownerAgent.get(`${gh.issuer}/admin/users?search=${encodeURIComponent(admin.email)}`);
    const ended = await ownerAgent.submit(users, `/users/${admin.id}/sessions/end`, {});
    expect(textOf(ended.html)).toContain(`${admin.email} was signed out everywhere (1 session ended).`);
    expect(isPasswordPage(await agent.get(`${gh.issuer}/admin/users`))).toBe(true);
  });

  it('shows support staff the users and the policy but no button to change them', async () => {
    const support = await adminWithMfa(gh, dist.id, 'support');
    const { agent, page } = await signInToConsole(gh, support);
    expect(textOf(page.html)).toContain('User Management');
    expect(page.html).not.toContain('/deactivate"');
    expect(page.html).not.toContain('/role"');
    const security = await agent.get(`${gh.issuer}/admin/security`);
    expect(textOf(security.html)).toContain('Only owners, super admins and admins can change the MFA policy.');
    expect(security.html).not.toMatch(/<button[^>]*type="submit"[^>]*>Save/);
    const forged = await agent.request(`${gh.issuer}/admin/security/mfa-policy`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...findForm(security.html, '/admin/logout').hidden, enforce_mfa_partner_users: 'on', grace_days: '0' }),
    });
    expect(forged.status).toBe(403);
    expect((await gh.runtime.repos.tenants.findById(dist.id))?.enforceMfaPartnerUsers).toBe(false);
  });

  it('turns away a signed-in user whose role has no administration', async () => {
    const account = await seedAccount(gh.runtime, dist.id, { role: 'user' });
    const app = await importAuthenticator(gh.runtime, account);
    const { page } = await signInToConsole(gh, { id: account.id, email: account.email, app }, '/admin/');
    expect(page.status).toBe(403);
    expect(textOf(page.html)).toContain('No access to the admin console');
  });
});
