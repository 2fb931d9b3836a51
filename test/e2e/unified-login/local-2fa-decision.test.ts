// DESIGN.md §7 end to end, across two processes: the real Gatehouse in process, the demo app "Acme MDR"
// as a child process (`node examples/downstream-app/main.ts`). Each row of the local-2FA table is
// driven through the real pages of both; the app's dashboard shows the decision it took.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { seedAccount, seedTenant } from '../../helpers/seed.ts';
import { addLocalUserWithTotp, seedMfaAccount, startDemoAppProcess, submitExact } from '../../helpers/downstream-app.ts';
import type { DemoAppProcess } from '../../helpers/downstream-app.ts';
import type { Authenticator } from '../../helpers/mfa.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import {
  clickSignInWithGatehouse,
  completeGatehouseEnrolment,
  directSignIn,
  enrolLocalTotp,
  expectDashboard,
  expectLocalSecondFactorAsked,
  setRequireTwoFactor,
  unifiedSignIn,
} from './flows.ts';

const MFA_CLAIMS = { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' };
const PWD_CLAIMS = { amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' };
const DANA = { email: 'dana@acme.test', password: 'dana local password' };

describe('unified login with the demo app: the local-2FA decision (DESIGN.md §7)', () => {
  let gh: TestGatehouse;
  let app: DemoAppProcess;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  /** a Gatehouse user without MFA whose Acme MDR account (linked by `sub`) has Acme MDR's own 2FA. */
  let bob: Awaited<ReturnType<typeof seedAccount>>;
  let bobLocal: Authenticator;
  /** a direct-only Acme MDR user with Acme MDR's own 2FA. */
  let danaLocal: Authenticator;
  /** the app's administrator (no local 2FA), signed in directly once, to switch "Require 2FA for sign-in". */
  const admin = new UserAgent();

  beforeAll(async () => {
    gh = await startTestGatehouse({ env: { FETCH_ALLOW_PRIVATE_NETWORKS: 'true' } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    bob = await seedAccount(gh.runtime, tenant.id, { name: 'Bob Password-Only' });
    app = await startDemoAppProcess(gh, {
      async prepare(store) {
        bobLocal = (await addLocalUserWithTotp(store, { email: bob.email, gatehouseSub: bob.id })).authenticator;
        danaLocal = (await addLocalUserWithTotp(store, DANA)).authenticator;
      },
    });
    expectDashboard(await directSignIn(admin, app), { path: 'direct', reason: 'local_disabled' });
  });
  afterAll(async () => {
    await app?.stop();
    await gh?.stop();
  });

  describe('direct sign-in (the app\'s own password form)', () => {
    it('local 2FA off: no second factor', async () => {
      await setRequireTwoFactor(admin, app, false);
      const page = await directSignIn(new UserAgent(), app);
      expectDashboard(page, { path: 'direct', amr: ['pwd'], acr: '—', reason: 'local_disabled', localFactor: 'not asked' });
    });

    it('local 2FA on: the app asks for its own TOTP', async () => {
      await setRequireTwoFactor(admin, app, true);
      const browser = new UserAgent();
      const challenge = await directSignIn(browser, app, DANA.email, DANA.password);
      expectLocalSecondFactorAsked(challenge, 'direct_local_required');
      expect(challenge.html).not.toContain('Ask Gatehouse for MFA instead');
      const done = await submitExact(browser, challenge, '/login/two-factor', { code: await danaLocal.nextCode() });
      expectDashboard(done, { path: 'direct', amr: ['pwd'], reason: 'direct_local_required', localFactor: 'authenticator code' });
    });
  });

  describe('unified login (Sign in with Gatehouse)', () => {
    it('an MFA user, local 2FA on: local 2FA bypassed — Gatehouse enforced MFA', async () => {
      await setRequireTwoFactor(admin, app, true);
      const { account, authenticator } = await seedMfaAccount(gh.runtime, tenant);
      const page = await unifiedSignIn(new UserAgent(), app, { email: account.email, authenticator });
      expectDashboard(page, { path: 'unified', ...MFA_CLAIMS, reason: 'unified_mfa_satisfied', localFactor: 'not asked' });
      expect(page.html).toContain('Gatehouse performed multi-factor authentication, so Acme MDR did not ask for its own code.');
    });

    it('a password-only user, local 2FA on: the app asks for its own TOTP', async () => {
      await setRequireTwoFactor(admin, app, true);
      const browser = new UserAgent();
      const challenge = await unifiedSignIn(browser, app, { email: bob.email });
      expectLocalSecondFactorAsked(challenge, 'unified_no_mfa_local_required');
      expect(challenge.html).toContain('Code from your authenticator app');
      expect(challenge.html).toContain('Ask Gatehouse for MFA instead');
      const wrong = await submitExact(browser, challenge, '/login/two-factor', { code: bobLocal.wrongCode() });
      expect(wrong.status).toBe(401);
      const done = await submitExact(browser, wrong, '/login/two-factor', { code: await bobLocal.nextCode() });
      expectDashboard(done, { path: 'unified', ...PWD_CLAIMS, reason: 'unified_no_mfa_local_required', localFactor: 'authenticator code' });
    });

    it('a password-only user without the app\'s 2FA yet, local 2FA on: asked, then the app\'s own setup', async () => {
      await setRequireTwoFactor(admin, app, true);
      const account = await seedAccount(gh.runtime, tenant.id);
      const browser = new UserAgent();
      const asked = await unifiedSignIn(browser, app, { email: account.email });
      expectLocalSecondFactorAsked(asked, 'unified_no_mfa_local_required');
      expect(asked.html).toContain('You have not set up Acme MDR two-factor authentication yet.');
      const setup = await browser.get(`${app.url}/login/two-factor/setup`);
      const { page: codes } = await enrolLocalTotp(browser, setup, '/login/two-factor/setup');
      expect(codes.html).toContain('I have saved my codes');
      const dashboard = await browser.get(`${app.url}/`);
      expectDashboard(dashboard, { path: 'unified', ...PWD_CLAIMS, reason: 'unified_no_mfa_local_required', localFactor: 'authenticator code' });
    });

    it('a password-only user, local 2FA off: no second factor', async () => {
      await setRequireTwoFactor(admin, app, false);
      const account = await seedAccount(gh.runtime, tenant.id);
      const page = await unifiedSignIn(new UserAgent(), app, { email: account.email });
      expectDashboard(page, { path: 'unified', ...PWD_CLAIMS, reason: 'local_disabled', localFactor: 'not asked' });
      expect(page.html).toContain('Ask Gatehouse for MFA');
    });

    it('toggling the local setting changes nothing for an MFA user', async () => {
      const { account, authenticator } = await seedMfaAccount(gh.runtime, tenant);
      const browser = new UserAgent();
      const expected = { path: 'unified', ...MFA_CLAIMS, reason: 'unified_mfa_satisfied', localFactor: 'not asked' };

      await setRequireTwoFactor(admin, app, false);
      expectDashboard(await unifiedSignIn(browser, app, { email: account.email, authenticator }), expected);
      for (const on of [true, false, true]) {
        // sign out of the app only (stop at Gatehouse's end-session request), switch the setting, sign
        // in again: Gatehouse's session carries the MFA into a new ID token, the app decides the same
        const dashboard = await browser.get(`${app.url}/`);
        const signOut = await submitExact(browser, dashboard, '/logout', {}, gh.issuer);
        expect(signOut.url.startsWith(`${gh.issuer}/session/end`)).toBe(true);
        await setRequireTwoFactor(admin, app, on);
        expectDashboard(await clickSignInWithGatehouse(browser, app), expected);
      }
    });

    it('a user whose tenant enforces MFA by policy sets up an authenticator at Gatehouse, then bypasses local 2FA', async () => {
      await setRequireTwoFactor(admin, app, true);
      const distributor = await gh.runtime.directory.createTenant({ kind: 'distributor', name: 'Secure Distribution' });
      await gh.runtime.repos.tenants.setPolicy(distributor.id, { enforceMfaOrganizations: true });
      const enforced = await seedTenant(gh.runtime, 'organization', 'Contoso Security', distributor.id);
      const account = await seedAccount(gh.runtime, enforced.id);

      const browser = new UserAgent();
      const enrol = await unifiedSignIn(browser, app, { email: account.email });
      expect(enrol.url.startsWith(`${gh.issuer}/interaction/`)).toBe(true);
      const { page } = await completeGatehouseEnrolment(browser, enrol, app);
      expectDashboard(page, { path: 'unified', ...MFA_CLAIMS, reason: 'unified_mfa_satisfied', localFactor: 'not asked' });
    });
  });
});
