// Single logout against the real Gatehouse (OpenID Connect Back-Channel Logout 1.0): Gatehouse posts a
// logout token to the demo app (a child process) and the app ends the matching sessions — when the
// user signs out at Gatehouse, and when an administrator ends the user's sessions. The CLI command
// that does the same as a process of its own is tested in test/e2e/unified-login/cli-processes.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { seedMfaAccount, startDemoAppProcess, submitExact, type DemoAppProcess } from '../../helpers/downstream-app.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import { clickSignInWithGatehouse, demoSessionEnded, eventually, expectDashboard, unifiedSignIn } from './flows.ts';

const LOGGED_OUT = 'http://127.0.0.1:9/logged-out';

describe('single logout: Gatehouse ends the demo app\'s sessions by back-channel logout', () => {
  let gh: TestGatehouse;
  let app: DemoAppProcess;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  /** another application of the same Gatehouse session (a plain openid-client RP). */
  let portal: oidc.Configuration;

  beforeAll(async () => {
    gh = await startTestGatehouse({ env: { FETCH_ALLOW_PRIVATE_NETWORKS: 'true' } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    app = await startDemoAppProcess(gh);
    portal = await rpConfig(gh.issuer, await seedClient(gh.runtime, { postLogoutRedirectUris: [LOGGED_OUT] }));
  });
  afterAll(async () => {
    await app?.stop();
    await gh?.stop();
  });

  /** A user signed in to the demo app through Gatehouse in a browser of their own. */
  async function signedInBrowser(email: string) {
    const browser = new UserAgent();
    expectDashboard(await unifiedSignIn(browser, app, { email }), { path: 'unified' });
    return browser;
  }

  it('signing out at Gatehouse (from another application of the session) ends the demo session', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const browser = await signedInBrowser(account.email);
    const bystander = await signedInBrowser((await seedAccount(gh.runtime, tenant.id)).email);

    // the same browser opens the portal: single sign-on, no page in between
    const start = await startAuthorization(portal);
    const tokens = await finishAuthorization(portal, start, await browser.get(start.url.href, REDIRECT_URI));

    const confirm = await browser.get(oidc.buildEndSessionUrl(portal, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: LOGGED_OUT }).href);
    expect(confirm.html).toContain('You will be signed out of the apps that use Gatehouse in this browser.');
    const done = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' }, LOGGED_OUT);
    expect(done.url.startsWith(LOGGED_OUT)).toBe(true);

    expect(await eventually(() => demoSessionEnded(browser, app))).toBe(true);
    expect(await demoSessionEnded(bystander, app)).toBe(false);
    // Gatehouse's session is gone too: the next "Sign in with Gatehouse" asks for the password
    expect((await clickSignInWithGatehouse(browser, app)).html).toContain('autocomplete="current-password"');
  });

  it('the demo app\'s own "Sign out" signs out at Gatehouse (RP-initiated logout) and back to the app', async () => {
    const { account, authenticator } = await seedMfaAccount(gh.runtime, tenant);
    const browser = new UserAgent();
    const dashboard = await unifiedSignIn(browser, app, { email: account.email, authenticator });
    expectDashboard(dashboard, { path: 'unified', reason: 'unified_mfa_satisfied' });

    const confirm = await submitExact(browser, dashboard, '/logout', {});
    expect(confirm.url.startsWith(`${gh.issuer}/session/end`)).toBe(true);
    const signedOut = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(signedOut.url).toBe(`${app.url}/signed-out`);
    expect(signedOut.html).toContain('You are signed out');
    expect(await demoSessionEnded(browser, app)).toBe(true);
    expect((await clickSignInWithGatehouse(browser, app)).html).toContain('autocomplete="current-password"');
  });

  it('an administrator ending the user\'s sessions ends the demo session in every browser', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const laptop = await signedInBrowser(account.email);
    const phone = await signedInBrowser(account.email);
    const bystander = await signedInBrowser((await seedAccount(gh.runtime, tenant.id)).email);

    const ended = await gh.runtime.sessions.end(account.id, { reason: 'administrator', actor: 'cli', tenantId: tenant.id, requestId: 'test' });
    expect(ended).toEqual({ sessions: 2, notified: [app.clientId, app.clientId], failed: [] });
    const [audited] = await gh.runtime.repos.audit.list({ target: account.id, action: 'account.sessions.ended', limit: 1 });
    expect(audited).toMatchObject({ actor: 'cli', tenantId: tenant.id, detail: { sessions: 2, reason: 'administrator', notified: [app.clientId, app.clientId], failed: [] } });

    expect(await eventually(() => demoSessionEnded(laptop, app))).toBe(true);
    expect(await eventually(() => demoSessionEnded(phone, app))).toBe(true);
    expect(await demoSessionEnded(bystander, app)).toBe(false);
    expect((await clickSignInWithGatehouse(laptop, app)).html).toContain('autocomplete="current-password"');
  });
});
