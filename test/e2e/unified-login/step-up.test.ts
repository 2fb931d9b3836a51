// "Ask Gatehouse for MFA instead" against the real Gatehouse: the demo app (a child process)
// re-requests the sign-in with acr_values=urn:gatehouse:acr:mfa (DESIGN.md §6, §7), Gatehouse asks
// only for the missing factor (here: its forced authenticator setup), and the new ID token's amr
// lets the app bypass its own 2FA.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { seedAccount, seedTenant } from '../../helpers/seed.ts';
import { startDemoAppProcess, submitExact, type DemoAppProcess } from '../../helpers/downstream-app.ts';
import { UserAgent, type Page } from '../../helpers/user-agent.ts';
import { completeGatehouseEnrolment, directSignIn, expectDashboard, expectLocalSecondFactorAsked, setRequireTwoFactor, unifiedSignIn } from './flows.ts';

const ACR_MFA = 'urn:gatehouse:acr:mfa';

describe('step-up to Gatehouse MFA from the demo app (acr_values)', () => {
  let gh: TestGatehouse;
  let app: DemoAppProcess;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  const admin = new UserAgent();

  beforeAll(async () => {
    gh = await startTestGatehouse({ env: { FETCH_ALLOW_PRIVATE_NETWORKS: 'true' } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    app = await startDemoAppProcess(gh);
    await directSignIn(admin, app);
  });
  afterAll(async () => {
    await app?.stop();
    await gh?.stop();
  });

  /** Submits a step-up form and checks the authorization request the app sends to Gatehouse. */
  async function stepUp(browser: UserAgent, page: Page, action: string): Promise<Page> {
    const toGatehouse = await submitExact(browser, page, action, {}, `${gh.issuer}/auth`);
    const request = new URL(toGatehouse.url);
    expect(request.searchParams.get('acr_values')).toBe(ACR_MFA);
    expect(request.searchParams.get('code_challenge_method')).toBe('S256');
    expect(request.searchParams.get('redirect_uri')).toBe(`${app.url}/callback`);
    return browser.get(toGatehouse.url);
  }

  it('from the app\'s 2FA question (local 2FA on): Gatehouse sets up MFA without asking the password again, the app bypasses its own', async () => {
    await setRequireTwoFactor(admin, app, true);
    const account = await seedAccount(gh.runtime, tenant.id);
    const browser = new UserAgent();
    const asked = await unifiedSignIn(browser, app, { email: account.email });
    expectLocalSecondFactorAsked(asked, 'unified_no_mfa_local_required');

    const gatehouse = await stepUp(browser, asked, '/login/two-factor/step-up');
    expect(gatehouse.html).not.toContain('autocomplete="current-password"');
    const { page } = await completeGatehouseEnrolment(browser, gatehouse, app);
    expectDashboard(page, { path: 'unified', amr: ['pwd', 'otp', 'mfa'], acr: ACR_MFA, reason: 'unified_mfa_satisfied', localFactor: 'not asked' });
    expect(await gh.runtime.mfa.hasAuthenticator(account.id)).toBe(true);
  });

  it('from the dashboard (local 2FA off): "Ask Gatehouse for MFA" upgrades the sign-in to acr mfa', async () => {
    await setRequireTwoFactor(admin, app, false);
    const account = await seedAccount(gh.runtime, tenant.id);
    const browser = new UserAgent();
    const before = await unifiedSignIn(browser, app, { email: account.email });
    expectDashboard(before, { path: 'unified', amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa', reason: 'local_disabled' });

    const gatehouse = await stepUp(browser, before, '/login/gatehouse/step-up');
    const { page } = await completeGatehouseEnrolment(browser, gatehouse, app);
    expectDashboard(page, { path: 'unified', amr: ['pwd', 'otp', 'mfa'], acr: ACR_MFA, reason: 'unified_mfa_satisfied' });
    expect(page.html).not.toContain('Ask Gatehouse for MFA');
  });
});
