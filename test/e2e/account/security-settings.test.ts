// Security Settings of the account console end to end over HTTP: enable MFA in place (setup key →
// code → recovery codes shown once → banner), add a second device (both work; remove the first and
// its codes fail), regenerate recovery codes (the old ones fail at once), disable (refused with
// mfa_enforced when the policy enforces MFA, shown unavailable), rename; every action without a CSRF
// token or without a recent authentication is refused with a 4xx and changes no row.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, seedAccount, seedTenant } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { Authenticator, importAuthenticator, recoveryCodesOf, setupKeyOf } from '../../helpers/mfa.ts';
import type { MfaPolicySource } from '../../../src/domain/mfa/policy-source.ts';
import { postWithoutCsrf, signInToAccount } from './account-flow.ts';

describe(`account console: Security Settings (${backendName()})`, () => {
  let gh: TestGatehouse;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  const enforcedAccounts = new Set<string>();
  const policy: MfaPolicySource = { requiresMfa: (account) => enforcedAccounts.has(account.id) };
  let clockOffsetMs = 0;

  beforeAll(async () => {
    gh = await startTestGatehouse({ policy, now: () => new Date(Date.now() + clockOffsetMs) });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
  });
  afterAll(() => gh.stop());

  const url = (path: string) => `${gh.issuer}${path}`;
  const rows = async (accountId: string) => ({
    authenticators: (await gh.runtime.repos.authenticators.listForAccount(accountId)).map((a) => ({ id: a.id, label: a.label })),
    codes: await gh.runtime.repos.recoveryCodes.countUnused(accountId),
  });
  const actionsFor = async (accountId: string) => (await gh.runtime.repos.audit.list({ target: accountId, limit: 100 })).map((e) => e.action);
  const security = (agent: UserAgent) => agent.get(url('/account/security'));
  const verifies = async (accountId: string, code: string) => {
    const account = await gh.runtime.repos.accounts.findById(accountId);
    if (!account) throw new Error('account gone');
    const owner = { id: account.id, email: account.email, name: account.name, tenantId: account.tenant.id, tenantName: account.tenant.name };
    return (await gh.runtime.mfa.verifyTotp(owner, code, {})).ok;
  };

  /** Security Settings → "Enable MFA" / "Set up a new device" → setup page → code → the next page. */
  async function setUpDevice(agent: UserAgent, from: Page, label?: string) {
    const setup = await agent.submit(from, `/account/security/setup`, {});
    expect(setup.url).toContain('/account/security/setup?flow=');
    const app = new Authenticator(setupKeyOf(setup));
    const next = await agent.submit(setup, '/security/setup/confirm', { code: await app.nextCode(), ...(label ? { label } : {}) });
    return { app, setup, next };
  }

  it('is reachable from the sign-in page ("Manage your account") and shows MFA as Inactive', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const login = await new UserAgent().get(url('/account/security'));
    expect(login.html).toContain('<a href="/account/">Manage your account</a>');
    const { page } = await signInToAccount(gh, account.email);
    expect(page.url).toBe(url('/account/security'));
    expect(textOf(page.html)).toContain('Security Settings');
    expect(textOf(/id="mfa-status"[\s\S]*?<\/dl>/.exec(page.html)?.[0] ?? '')).toContain('Inactive');
    const signedIn = await gh.runtime.repos.audit.list({ action: 'auth.signed_in', target: account.id, limit: 1 });
    expect(signedIn[0]?.detail).toMatchObject({ client_id: 'gatehouse-account' });
  });

  it('enables MFA in place: setup key → code → recovery codes shown once → banner, Active since today; mailed and audited', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, page } = await signInToAccount(gh, account.email);
    const { app, next } = await setUpDevice(agent, page);
    expect(next.status).toBe(200);
    const codes = recoveryCodesOf(next);
    expect(codes).toHaveLength(10);
    const after = await security(agent);
    expect(after.html).toContain('id="banner"');
    expect(textOf(after.html)).toContain('Multi-factor authentication is on');
    expect(textOf(/id="mfa-status"[\s\S]*?<\/dl>/.exec(after.html)?.[0] ?? '')).toMatch(/Active since \d{4}-\d{2}-\d{2}/);
    expect(after.html).not.toContain(codes[0]); // shown once
    expect((await rows(account.id)).codes).toBe(10);
    expect(await verifies(account.id, await app.nextCode())).toBe(true);
    expect(await actionsFor(account.id)).toContain('mfa.enrolled');
    const mail = await gh.deliverMail();
    expect(mail.some((m) => m.to === account.email && /Multi-factor authentication is now on/.test(m.subject))).toBe(true);
  });

  it('adds a second device (both work), removes the first (its codes then fail), renames', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const first = await importAuthenticator(gh.runtime, account);
    const { agent, page } = await signInToAccount(gh, account.email, first);
    const { app: second, next } = await setUpDevice(agent, page, 'Work phone');
    expect(textOf(next.html)).toContain('The new device is set up');
    const list = (await rows(account.id)).authenticators;
    expect(list.map((a) => a.label)).toEqual(['Authenticator app (imported)', 'Work phone']);
    expect(await verifies(account.id, await first.nextCode())).toBe(true);
    expect(await verifies(account.id, await second.nextCode())).toBe(true);

    const renamed = await agent.submit(next, `/authenticators/${list[1]?.id}/rename`, { label: 'Pixel 9' });
    expect(textOf(renamed.html)).toContain('Pixel 9');
    const removed = await agent.submit(renamed, `/authenticators/${list[0]?.id}/remove`, {});
    expect(textOf(removed.html)).toContain('Codes from it no longer work');
    expect((await rows(account.id)).authenticators.map((a) => a.label)).toEqual(['Pixel 9']);
    expect(await verifies(account.id, await first.nextCode())).toBe(false);
    expect(await verifies(account.id, await second.nextCode())).toBe(true);
    expect(await actionsFor(account.id)).toEqual(expect.arrayContaining(['mfa.authenticator.added', 'mfa.authenticator.renamed', 'mfa.authenticator.removed']));
    const mail = await gh.deliverMail();
    expect(mail.filter((m) => m.to === account.email).map((m) => m.subject)).toEqual(
      expect.arrayContaining([expect.stringMatching(/new authenticator/i), expect.stringMatching(/removed/i)]),
    );
  });

  it('regenerates recovery codes: the old ones stop working at once, the new ones are shown once', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const { agent, page } = await signInToAccount(gh, account.email, app);
    const firstSet = recoveryCodesOf(await agent.submit(page, '/security/recovery-codes', {}));
    const secondPage = await agent.submit(await security(agent), '/security/recovery-codes', {});
    const secondSet = recoveryCodesOf(secondPage);
    expect(secondSet).not.toEqual(firstSet);
    const owner = { id: account.id, email: account.email, name: account.name, tenantId: account.tenant.id, tenantName: account.tenant.name };
    expect((await gh.runtime.mfa.verifyRecoveryCode(owner, firstSet[0] ?? '', {})).ok).toBe(false);
    expect((await gh.runtime.mfa.verifyRecoveryCode(owner, secondSet[0] ?? '', {})).ok).toBe(true);
    expect(await actionsFor(account.id)).toContain('mfa.recovery_codes.regenerated');
  });

  it('disables MFA with the password and a current code; refused with mfa_enforced when the policy enforces it (shown unavailable), rows unchanged', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const { agent, page } = await signInToAccount(gh, account.email, app);
    const form = page; // the form with the password and code fields

    enforcedAccounts.add(account.id);
    const enforcedPage = await security(agent);
    expect(textOf(enforcedPage.html)).toContain('Unavailable. Your organization requires multi-factor authentication');
    expect(enforcedPage.html).not.toContain('id="disable-mfa"');
    expect(enforcedPage.html).toMatch(/Remove<\/button>[\s\S]*?id="remove-unavailable"/);
    const before = await rows(account.id);
    const refused = await agent.submit(form, '/security/disable', { password: PASSWORD, code: await app.nextCode() });
    expect(refused.status).toBe(409);
    expect(textOf(refused.html)).toContain('requires multi-factor authentication');
    const onlyOne = before.authenticators[0]?.id ?? '';
    const removeLast = await agent.submit(form, `/authenticators/${onlyOne}/remove`, {});
    expect(removeLast.status).toBe(409);
    expect(await rows(account.id)).toEqual(before);

    enforcedAccounts.delete(account.id);
    const wrongPassword = await agent.submit(form, '/security/disable', { password: 'not the password', code: await app.nextCode() });
    expect(wrongPassword.status).toBe(401);
    expect(await rows(account.id)).toEqual(before);
    const off = await agent.submit(form, '/security/disable', { password: PASSWORD, code: await app.nextCode() });
    expect(off.status).toBe(200);
    expect(textOf(off.html)).toContain('Multi-factor authentication is off');
    expect(await rows(account.id)).toEqual({ authenticators: [], codes: 0 });
    expect(await actionsFor(account.id)).toContain('mfa.disabled');
  });

  it('refuses every action without a CSRF token (403) or without a recent authentication (401), changing nothing', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const { agent, page } = await signInToAccount(gh, account.email, app);
    const id = (await rows(account.id)).authenticators[0]?.id ?? '';
    const before = await rows(account.id);
    const actions: [string, Record<string, string>][] = [
      ['/security/setup', {}],
      [`/authenticators/${id}/rename`, { label: 'Forged' }],
      [`/authenticators/${id}/remove`, {}],
      ['/security/recovery-codes', {}],
      ['/security/disable', { password: PASSWORD, code: app.wrongCode() }],
      ['/security/reset', { password: PASSWORD }],
    ];
    for (const [action, fields] of actions) {
      const res = await postWithoutCsrf(agent, page, action, fields);
      expect([action, res.status]).toEqual([action, 403]);
    }
    expect(await rows(account.id)).toEqual(before);

    clockOffsetMs = 6 * 60 * 1000; // the sign-in is now more than five minutes old
    try {
      for (const [action, fields] of actions.filter(([a]) => !a.endsWith('/rename') && !a.endsWith('/reset'))) {
        const res = await agent.submit(page, action, fields);
        expect([action, res.status]).toEqual([action, 401]);
        expect(textOf(res.html)).toContain('Confirm your identity');
      }
      expect(await rows(account.id)).toEqual(before);
      // "Confirm it's you" starts the console's own re-authentication: a new sign-in (prompt=login)
      const refused = await agent.submit(page, '/security/recovery-codes', {});
      const href = /href="([^"]*\/account\/confirm\?return_to=[^"]*)"/.exec(refused.html)?.[1] ?? '';
      expect(href).toContain('return_to=%2Faccount%2Fsecurity');
      const reauth = await agent.request(url(href.replace(/&amp;/g, '&')));
      expect(reauth.status).toBe(303);
      const authorize = new URL(reauth.headers.get('location') ?? '');
      expect(authorize.pathname).toBe('/auth');
      expect(authorize.searchParams.get('prompt')).toBe('login');
      expect(authorize.searchParams.get('max_age')).toBe('0');
      expect(authorize.searchParams.get('login_hint')).toBe(account.email);
    } finally {
      clockOffsetMs = 0;
    }
  });
});
