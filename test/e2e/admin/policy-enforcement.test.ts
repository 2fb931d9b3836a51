// DESIGN.md §8 end to end, with the real tenant policy (no test double): a distributor admin turns on
// "Enforce MFA for all organizations" with a 7-day grace period through /api/v1. An organization user
// without MFA is then sent into setup at the next sign-in and may choose "Set up later" (audited; the ID
// token says amr ["pwd"]); after the deadline (the clock is injected) there is no skip; once set up, the
// user cannot turn MFA off or remove the last authenticator, while the admin's reset stays available.
// A sub-reseller's organization user and the distributor's own users are not affected.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';
import { enrolThroughPages, isEnrolPage, postInstead } from '../../helpers/mfa.ts';
import { adminWithMfa, signInToConsole } from './console-flow.ts';
import { createMfaRemoval } from '../../../src/domain/mfa/removal.ts';
import { tenantTreePolicy } from '../../../src/domain/mfa/policy-source.ts';

const DAY = 86_400_000;

describe(`MFA policy enforcement through the API and sign-in (${backendName()})`, () => {
  let clock = new Date();
  let gh: TestGatehouse;
  let app: oidc.Configuration;
  let adminToken: string;
  let dist: Awaited<ReturnType<typeof seedTenant>>;
  let orgUser: Awaited<ReturnType<typeof seedAccount>>;
  let subOrgUser: Awaited<ReturnType<typeof seedAccount>>;
  let distUser: Awaited<ReturnType<typeof seedAccount>>;

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${gh.issuer}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  async function afterPassword(email: string) {
    const agent = new UserAgent();
    const start = await startAuthorization(app);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    return { agent, start, page: await agent.submit(login, '/login', { email, password: PASSWORD }, REDIRECT_URI) };
  }

  beforeAll(async () => {
    gh = await startTestGatehouse({ now: () => clock });
    dist = await seedTenant(gh.runtime, 'distributor', 'Litware Distribution');
    const org = await seedTenant(gh.runtime, 'organization', 'Litware Clinic', dist.id);
    const sub = await seedTenant(gh.runtime, 'sub_reseller', 'Litware Resale', dist.id);
    const subOrg = await seedTenant(gh.runtime, 'organization', 'Resale Customer', sub.id);
    orgUser = await seedAccount(gh.runtime, org.id);
    subOrgUser = await seedAccount(gh.runtime, subOrg.id);
    distUser = await seedAccount(gh.runtime, dist.id);
    app = await rpConfig(gh.issuer, await seedClient(gh.runtime));
    // the distributor admin's own access token, as the admin console holds it
    const admin = await adminWithMfa(gh, dist.id, 'admin');
    const { agent } = await signInToConsole(gh, admin);
    const jar = (agent as unknown as { cookies: Map<string, { name: string; value: string }> }).cookies;
    const cookie = [...jar.values()].find((c) => c.name.endsWith('gh_admin_session'))?.value ?? '';
    adminToken = (await gh.runtime.kv.get<{ accessToken: string }>(`console:admin:session:${createHash('sha256').update(cookie).digest('base64url')}`))?.accessToken ?? '';
  });
  afterAll(() => gh.stop());

  it('turns on "Enforce MFA for all organizations" with 7 days of grace, and says how many accounts have no MFA yet', async () => {
    const res = await api('PATCH', `/tenants/${dist.slug}/policy`, { enforce_mfa_organizations: true, grace_days: 7 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      policy: { enforce_mfa_organizations: { on: true, accounts_without_mfa: 1, organization_count: 1 }, enforce_mfa_partner_users: { on: false }, grace_days: 7 },
      turned_on: [{ switch: 'organizations', accounts_without_mfa: 1 }],
    });
  });

  it('offers the organization user "Set up later" during the grace period; the deferral is audited and the ID token says amr ["pwd"]', async () => {
    const { agent, start, page } = await afterPassword(orgUser.email);
    expect(isEnrolPage(page)).toBe(true);
    expect(page.html).toContain('Set up later');
    expect(textOf(page.html)).toContain('Your organization gives you until');
    const callback = await agent.submit(page, '/defer', {}, REDIRECT_URI);
    const tokens = await finishAuthorization(app, start, callback);
    expect(tokens.claims()).toMatchObject({ sub: orgUser.id, amr: ['pwd'] });
    const [event] = await gh.runtime.repos.audit.list({ action: 'mfa.setup.deferred', target: orgUser.id, limit: 1 });
    expect(event?.detail).toMatchObject({ grace_until: expect.any(String) });
    expect(await gh.runtime.repos.authenticators.countForAccount(orgUser.id)).toBe(0);
  });

  it('does not reach the sub-reseller’s organization nor the distributor’s own users', async () => {
    for (const user of [subOrgUser, distUser]) {
      const { tokens } = await passwordSignIn(app, user.email);
      expect(tokens.claims()).toMatchObject({ sub: user.id, amr: ['pwd'] });
    }
  });

  it('after the deadline offers no skip (a forged "Set up later" is refused); the user sets MFA up', async () => {
    clock = new Date(Date.now() + 8 * DAY);
    const { agent, start, page } = await afterPassword(orgUser.email);
    expect(isEnrolPage(page)).toBe(true);
    expect(page.html).not.toContain('Set up later');
    const forged = await postInstead(agent, page, '/enrol', '/defer', {}, REDIRECT_URI);
    expect(forged.status).toBe(409);
    const again = await agent.get(`${gh.issuer}/interaction/${/\/interaction\/([^/"]+)\/enrol/.exec(page.html)?.[1] ?? ''}`, REDIRECT_URI);
    const { callback } = await enrolThroughPages(agent, again, REDIRECT_URI);
    expect((await finishAuthorization(app, start, callback)).claims()).toMatchObject({ sub: orgUser.id, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('refuses to let the enforced user turn MFA off or remove the last authenticator; the admin reset still works', async () => {
    const account = await gh.runtime.repos.accounts.findById(orgUser.id);
    if (!account) throw new Error('account missing');
    const mfaRemoval = createMfaRemoval({ ...gh.runtime.repos, events: gh.runtime.events, policy: tenantTreePolicy });
    await expect(mfaRemoval.disable(account, {})).rejects.toMatchObject({ code: 'mfa_enforced', status: 403 });
    const [only] = await gh.runtime.repos.authenticators.listForAccount(orgUser.id);
    await expect(mfaRemoval.removeAuthenticator(account, only?.id ?? '', {})).rejects.toMatchObject({ code: 'mfa_enforced' });
    expect(await mfaRemoval.mayDisable(account)).toBe(false);
    expect(await gh.runtime.repos.authenticators.countForAccount(orgUser.id)).toBe(1);
    // the distributor's own user is not enforced: removing works there
    const distAccount = await gh.runtime.repos.accounts.findById(distUser.id);
    expect(await mfaRemoval.mayDisable(distAccount!)).toBe(true);

    const reset = await api('POST', `/users/${orgUser.id}/mfa/reset`);
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ authenticators_removed: 1, setup_required_at_next_sign_in: true });
  });
});
