// Recovery-code path (DESIGN.md §5, §9): forced setup over HTTP shows 10 recovery codes once; later a
// recovery code stands in for the authenticator (amr still pwd+otp+mfa), says how many remain, works
// once only, and every step leaves an audit event and a mail to the owner.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';
import { Authenticator, enrolThroughPages, importAuthenticator, isRecoveryCodesPage, isVerifyPage, postInstead, setupKeyOf } from '../../helpers/mfa.ts';

const MFA = { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' };

describe(`recovery codes at sign-in (${backendName()})`, () => {
  let gh: TestGatehouse;
  let strictApp: oidc.Configuration; // a client with require_mfa: the first sign-in is forced setup
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Fabrikam');
    strictApp = await rpConfig(gh.issuer, await seedClient(gh.runtime, { requireMfa: true }));
  });
  afterAll(() => gh.stop());

  const actionsFor = async (accountId: string) => (await gh.runtime.repos.audit.list({ target: accountId, limit: 100 })).map((e) => e.action);
  const mailTo = (email: string) => gh.mail.filter((m) => m.to === email);

  /** An account that went through forced setup over HTTP; returns what the user saved. */
  async function enrolledAccount() {
    const account = await seedAccount(gh.runtime, tenant.id);
    const agent = new UserAgent();
    const start = await startAuthorization(strictApp);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const setup = await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    const enrolled = await enrolThroughPages(agent, setup, REDIRECT_URI);
    const tokens = await finishAuthorization(strictApp, start, enrolled.callback);
    return { account, tokens, ...enrolled };
  }

  /** A new browser: password → verify page → "Use a recovery code instead". */
  async function toRecoveryPage(email: string) {
    const agent = new UserAgent();
    const start = await startAuthorization(strictApp);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const verify = await agent.submit(login, '/login', { email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(verify)).toBe(true);
    const link = /href="(\/interaction\/[^"]+\/recovery)"/.exec(verify.html)?.[1] ?? '';
    return { agent, start, page: await agent.get(new URL(link, gh.issuer).href, REDIRECT_URI) };
  }

  it('forced setup ends with 10 distinct recovery codes, an MFA ID token, an audit trail and a mail to the owner', async () => {
    const { account, tokens, recoveryCodes, codesPage } = await enrolledAccount();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(codesPage.html).toContain('I have saved these codes');
    expect(codesPage.html).toMatch(/href="\/interaction\/[^"]+\/recovery-codes\.txt"/); // download as text
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });

    expect(await actionsFor(account.id)).toEqual(expect.arrayContaining(['mfa.enrolment.started', 'mfa.enrolled', 'auth.signed_in']));
    expect(mailTo(account.email).map((m) => m.subject)).toEqual(expect.arrayContaining([expect.stringMatching(/Multi-factor authentication is now on/)]));
  });

  it('signs in with a recovery code: says 9 remain, then continues to the client with amr mfa', async () => {
    const { account, recoveryCodes } = await enrolledAccount();
    const { agent, start, page } = await toRecoveryPage(account.email);
    expect(page.html).toContain('Recovery code');

    const used = await agent.submit(page, '/recovery', { code: recoveryCodes[3] ?? '' }, REDIRECT_URI);
    expect(used.status).toBe(200);
    expect(textOf(used.html)).toContain('You have 9 recovery codes left');
    expect(textOf(used.html)).toMatch(/generate new recovery codes/i);

    const tokens = await finishAuthorization(strictApp, start, await agent.submit(used, '/continue', {}, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });
    expect(await gh.runtime.repos.recoveryCodes.countUnused(account.id)).toBe(9);

    const usedEvent = (await gh.runtime.repos.audit.list({ target: account.id, action: 'mfa.recovery_code.used', limit: 10 }))[0];
    expect(usedEvent?.detail).toMatchObject({ remaining: 9 });
    expect(mailTo(account.email).map((m) => m.subject)).toEqual(expect.arrayContaining([expect.stringMatching(/A recovery code was used to sign in/)]));
  });

  it('refuses a recovery code that was already used, with a clear page and an audit event', async () => {
    const { account, recoveryCodes } = await enrolledAccount();
    const code = recoveryCodes[0] ?? '';
    const first = await toRecoveryPage(account.email);
    const used = await first.agent.submit(first.page, '/recovery', { code }, REDIRECT_URI);
    await finishAuthorization(strictApp, first.start, await first.agent.submit(used, '/continue', {}, REDIRECT_URI));

    const again = await toRecoveryPage(account.email);
    const refused = await again.agent.submit(again.page, '/recovery', { code }, REDIRECT_URI);
    expect(refused.status).toBe(401);
    expect(textOf(refused.html)).toContain('That recovery code is not valid or was already used.');
    expect(refused.url).not.toContain(REDIRECT_URI);
    expect(await actionsFor(account.id)).toContain('mfa.recovery_code.check_failed');

    // another unused code still works, read back the way people type it (upper case, no dashes)
    const other = (recoveryCodes[1] ?? '').toUpperCase().replace(/-/g, '');
    const accepted = await again.agent.submit(refused, '/recovery', { code: other }, REDIRECT_URI);
    expect(textOf(accepted.html)).toContain('You have 8 recovery codes left');
  });

  it('refuses to continue from the recovery page without a code (no way round the second factor)', async () => {
    const { account } = await enrolledAccount();
    const { agent, page } = await toRecoveryPage(account.email);
    const skipped = await postInstead(agent, page, '/recovery', '/continue', {}, REDIRECT_URI);
    expect(skipped.status).toBe(409);
    expect(textOf(skipped.html)).toContain('This step of the sign-in is not available now.');
    expect(skipped.url).not.toContain(REDIRECT_URI);
  });

  it('does not let the sign-in finish after setup until the user confirms the codes are saved', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const agent = new UserAgent();
    const start = await startAuthorization(strictApp);
    const setup = await agent.submit(await agent.get(start.url.href, REDIRECT_URI), '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    const codesPage = await agent.submit(setup, '/enrol', { code: await new Authenticator(setupKeyOf(setup)).nextCode() }, REDIRECT_URI);
    expect(isRecoveryCodesPage(codesPage)).toBe(true);

    const viaContinue = await postInstead(agent, codesPage, '/recovery-codes', '/continue', {}, REDIRECT_URI);
    expect(viaContinue.status).toBe(409);
    const unconfirmed = await agent.submit(codesPage, '/recovery-codes', {}, REDIRECT_URI);
    expect(unconfirmed.status).toBe(400);
    expect(textOf(unconfirmed.html)).toContain('Confirm that you have saved your recovery codes before you continue.');
    expect(await actionsFor(account.id)).not.toContain('auth.signed_in');

    const tokens = await finishAuthorization(strictApp, start, await agent.submit(unconfirmed, '/recovery-codes', { saved: 'yes' }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });
  });

  it('invalidates the old recovery codes and authenticator when an authenticator is imported in their place', async () => {
    const { account, recoveryCodes, authenticator: oldPhone } = await enrolledAccount();
    const imported = await importAuthenticator(gh.runtime, account);
    expect(await gh.runtime.repos.recoveryCodes.countUnused(account.id)).toBe(0);

    const viaCode = await toRecoveryPage(account.email);
    const refused = await viaCode.agent.submit(viaCode.page, '/recovery', { code: recoveryCodes[0] ?? '' }, REDIRECT_URI);
    expect(refused.status).toBe(401);

    const agent = new UserAgent();
    const start = await startAuthorization(strictApp);
    const verify = await agent.submit(await agent.get(start.url.href, REDIRECT_URI), '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    const oldCode = await agent.submit(verify, '/verify', { code: await oldPhone.nextCode() }, REDIRECT_URI);
    expect(oldCode.status).toBe(401);
    const callback = await agent.submit(oldCode, '/verify', { code: await imported.nextCode() }, REDIRECT_URI);
    expect((await finishAuthorization(strictApp, start, callback)).claims()).toMatchObject({ sub: account.id, ...MFA });
  });

  it('changes nothing and sends no mail when the same secret is imported again (its spent codes stay spent)', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const owner = { id: account.id, email: account.email, name: account.name, tenantId: tenant.id, tenantName: tenant.name };
    const code = await app.nextCode();
    expect(await gh.runtime.mfa.verifyTotp(owner, code, {})).toMatchObject({ ok: true });
    const mails = mailTo(account.email).length;
    expect(await gh.runtime.mfa.importTotp(owner, app.secret, {})).toBe('unchanged');
    expect(mailTo(account.email)).toHaveLength(mails);
    expect(await gh.runtime.mfa.verifyTotp(owner, code, {})).toMatchObject({ ok: false });
  });
});
