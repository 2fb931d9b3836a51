// Admin MFA reset end to end (NinjaOne "Reset MFA for Other Users"): a distributor admin opens User
// Management, picks Reset MFA in the user's row, confirms with "Yes, Continue"; the user's authenticator
// and recovery codes stop working, their signed-in browser is signed out, a mail reaches them through a
// real SMTP server, and — the distributor enforcing MFA for its organizations — their next sign-in goes
// through setup again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { enrolThroughPages, importAuthenticator, isEnrolPage, isPasswordPage, isVerifyPage, postInstead } from '../../helpers/mfa.ts';
import { startTestSmtp, type TestSmtp } from '../../helpers/smtp.ts';
import { adminWithMfa, signInToConsole } from './console-flow.ts';

const banner = (page: Page) => textOf(/<div[^>]*id="banner"[^>]*>([\s\S]*?)<\/div>/.exec(page.html)?.[1] ?? '');

describe(`admin MFA reset through the console, mail over SMTP, setup at next sign-in (${backendName()})`, () => {
  let smtp: TestSmtp;
  let gh: TestGatehouse;
  let app: oidc.Configuration;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    gh = await startTestGatehouse({ captureMail: false, env: { SMTP_URL: smtp.url } });
    app = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(async () => {
    await gh?.stop();
    await smtp?.stop();
  });

  it('resets through the confirmation step; the user is signed out, mailed, and sets MFA up again at the next sign-in', async () => {
    const dist = await seedTenant(gh.runtime, 'distributor', 'Contoso Partners');
    const org = await seedTenant(gh.runtime, 'organization', 'Contoso Dental', dist.id);
    await gh.runtime.repos.tenants.setPolicy(dist.id, { enforceMfaOrganizations: true });
    const user = await seedAccount(gh.runtime, org.id, { name: 'Riley Org' });
    const device = await importAuthenticator(gh.runtime, user);
    const admin = await adminWithMfa(gh, dist.id, 'admin');

    // the user is signed in to an app with password + code
    const userAgent = new UserAgent();
    const first = await startAuthorization(app);
    const login = await userAgent.get(first.url.href, REDIRECT_URI);
    const verify = await userAgent.submit(login, '/login', { email: user.email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(verify)).toBe(true);
    await finishAuthorization(app, first, await userAgent.submit(verify, '/verify', { code: await device.nextCode() }, REDIRECT_URI));

    const { agent } = await signInToConsole(gh, admin);
    const list = await agent.get(`${gh.issuer}/admin/users?tenant=${org.slug}`);
    const row = new RegExp(`<tr data-user="${user.email}">([\\s\\S]*?)</tr>`).exec(list.html)?.[1] ?? '';
    expect(textOf(row)).toContain('Active');
    const href = /href="([^"]*\/mfa\/reset[^"]*)"/.exec(row)?.[1]?.replace(/&amp;/g, '&');
    expect(href).toBeDefined();
    const confirm = await agent.get(new URL(href ?? '', gh.issuer).href);
    expect(textOf(confirm.html)).toContain(`Reset multi-factor authentication (MFA) for ${user.name}`);
    expect(confirm.html).toContain('Yes, Continue');
    expect(await gh.runtime.repos.authenticators.countForAccount(user.id)).toBe(1); // the confirmation page changes nothing

    const done = await agent.submit(confirm, `/users/${user.id}/mfa/reset`, {});
    expect(done.url).toContain(`/admin/users?tenant=${org.slug}`);
    expect(banner(done)).toBe(`MFA was reset for ${user.email}. A reset confirmation email was sent, asking them to set up MFA again at their next sign-in.`);
    const after = new RegExp(`<tr data-user="${user.email}">([\\s\\S]*?)</tr>`).exec(done.html)?.[1] ?? '';
    expect(textOf(after)).toContain('Inactive');
    expect(await gh.runtime.repos.authenticators.countForAccount(user.id)).toBe(0);
    const [event] = await gh.runtime.repos.audit.list({ action: 'mfa.reset_by_admin', target: user.id, limit: 1 });
    expect(event).toMatchObject({ actorAccountId: admin.id, tenantId: org.id, detail: expect.objectContaining({ reason: 'admin', setupRequired: true }) });

    const mail = await smtp.waitFor((m) => m.to.includes(user.email) && /Multi-factor authentication was reset/.test(m.subject));
    expect(mail.text).toContain('An administrator reset multi-factor authentication (MFA)');
    expect(mail.text).toContain('the next time you sign in you will be asked to set up your authenticator app again');

    // the browser that was signed in is signed out: the next authorization asks for the password, then setup
    const next = await startAuthorization(app);
    const again = await userAgent.get(next.url.href, REDIRECT_URI);
    expect(isPasswordPage(again)).toBe(true);
    const setup = await userAgent.submit(again, '/login', { email: user.email, password: PASSWORD }, REDIRECT_URI);
    expect(isEnrolPage(setup)).toBe(true);
    const { callback } = await enrolThroughPages(userAgent, setup, REDIRECT_URI);
    const tokens = await finishAuthorization(app, next, callback);
    expect(tokens.claims()).toMatchObject({ sub: user.id, amr: ['pwd', 'otp', 'mfa'] });
    expect(await gh.runtime.repos.authenticators.countForAccount(user.id)).toBe(1);
  });

  it('shows no Reset MFA to support and refuses the confirmation page and the form', async () => {
    const dist = await seedTenant(gh.runtime, 'distributor', 'Fabrikam Partners');
    const user = await seedAccount(gh.runtime, dist.id);
    await importAuthenticator(gh.runtime, user);
    const support = await adminWithMfa(gh, dist.id, 'support');
    const { agent, page } = await signInToConsole(gh, support);
    expect(page.html).toContain(user.email);
    expect(page.html).not.toContain(`/users/${user.id}/mfa/reset`);
    expect((await agent.get(`${gh.issuer}/admin/users/${user.id}/mfa/reset`)).status).toBe(403);
    // a hand-made form (the page's CSRF token, posted to the reset) is refused by the use case
    const forged = await postInstead(agent, page, '/admin/logout', `/admin/users/${user.id}/mfa/reset`);
    expect(forged.status).toBe(403);
    expect(await gh.runtime.repos.authenticators.countForAccount(user.id)).toBe(1);
  });
});
