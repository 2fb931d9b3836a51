// Forced setup (DESIGN.md §5 step 2, §9): when MFA is required — by the client (require_mfa), by the
// tenant policy hook, or by the request (acr_values with the Gatehouse URN or the PAPE multi-factor
// URI, or an essential acr claim) — an account without an authenticator must enrol before it gets a
// code: QR + setup key, confirm with a code, recovery codes; there is no way to skip it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { Authenticator, enrolThroughPages, isEnrolPage, isVerifyPage, postInstead, setupKeyOf } from '../../helpers/mfa.ts';

const ACR_MFA = 'urn:gatehouse:acr:mfa';
const PAPE_MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const MFA = { amr: ['pwd', 'otp', 'mfa'], acr: ACR_MFA };

describe(`forced MFA setup (${backendName()})`, () => {
  let gh: TestGatehouse;
  let plainApp: oidc.Configuration;
  let strictApp: oidc.Configuration; // require_mfa
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  const flaggedByPolicy = new Set<string>();

  beforeAll(async () => {
    gh = await startTestGatehouse({ policy: { requiresMfa: (account) => flaggedByPolicy.has(account.id) } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Adventure Works');
    plainApp = await rpConfig(gh.issuer, await seedClient(gh.runtime));
    strictApp = await rpConfig(gh.issuer, await seedClient(gh.runtime, { requireMfa: true }));
  });
  afterAll(() => gh.stop());

  /** A new browser: authorize at `config` with `params`, then the password; returns the page after it. */
  async function afterPassword(config: oidc.Configuration, email: string, params: Record<string, string> = {}) {
    const agent = new UserAgent();
    const start = await startAuthorization(config, params);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const page = await agent.submit(login, '/login', { email, password: PASSWORD }, REDIRECT_URI);
    return { agent, start, page };
  }

  async function enrolsAndGetsMfa(config: oidc.Configuration, params: Record<string, string> = {}) {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, start, page } = await afterPassword(config, account.email, params);
    expect(isEnrolPage(page)).toBe(true);
    const { callback } = await enrolThroughPages(agent, page, REDIRECT_URI);
    const tokens = await finishAuthorization(config, start, callback);
    expect(tokens.claims()).toMatchObject({ sub: account.id, ...MFA });
    expect(await gh.runtime.mfa.hasAuthenticator(account.id)).toBe(true);
  }

  it('shows a client with require_mfa the setup page: QR image with alt text, grouped setup key, code field, no skip', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { page } = await afterPassword(strictApp, account.email);
    expect(isEnrolPage(page)).toBe(true);
    expect(page.html).toMatch(/<img src="data:image\/png;base64,[^"]+" alt="QR code[^"]+"/);
    expect(page.html).toMatch(/id="setup-key">([A-Z2-7]{4} )+[A-Z2-7]{1,4}</);
    expect(setupKeyOf(page)).toHaveLength(32); // 160 bits
    const input = /<input[^>]*name="code"[^>]*>/.exec(page.html)?.[0] ?? '';
    expect(input).toContain('autocomplete="one-time-code"');
    expect(input).toContain('inputmode="numeric"');
    expect(textOf(page.html)).toContain('Adventure Works');
    // the card offers one thing to do: set up a second factor, a passkey (shown only with JavaScript)
    // or an authenticator app (no skip link, no "later" button, no cancel)
    const card = /<section class="card[\s\S]*?<\/section>/.exec(page.html)?.[0] ?? '';
    expect([...card.matchAll(/<form[^>]*action="([^"]+)"/g)].map((m) => m[1]?.replace(/^.*\//, ''))).toEqual(['passkey-register', 'enrol']);
    expect(card).not.toMatch(/<a\b/);
    expect(textOf(card)).not.toMatch(/skip|not now|later|remind me/i);
  });

  it('completes forced setup for a client with require_mfa and issues amr mfa', () => enrolsAndGetsMfa(strictApp));

  it('refuses a wrong code at setup and keeps the same key on screen', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, page } = await afterPassword(strictApp, account.email);
    const app = new Authenticator(setupKeyOf(page));
    const refused = await agent.submit(page, '/enrol', { code: app.wrongCode() }, REDIRECT_URI);
    expect(refused.status).toBe(400);
    expect(textOf(refused.html)).toContain('That code does not match.');
    expect(setupKeyOf(refused)).toBe(app.secret);
    expect(await gh.runtime.mfa.hasAuthenticator(account.id)).toBe(false);
  });

  it('gives no code to a user who tries to skip setup by posting the later steps directly', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, page } = await afterPassword(strictApp, account.email);
    // every later step is refused while setup is the current step (each handler serves only its own step)
    for (const [action, fields] of [['/continue', {}], ['/recovery-codes', { saved: 'yes' }], ['/verify', { code: '123456' }], ['/select', { account: account.id }]] as const) {
      const skipped = await postInstead(agent, page, '/enrol', action, fields, REDIRECT_URI);
      expect({ action, status: skipped.status }).toEqual({ action, status: 409 });
      expect(skipped.url.startsWith(REDIRECT_URI)).toBe(false);
      expect(textOf(skipped.html)).toContain('This step of the sign-in is not available now.');
    }
    const download = await agent.get(page.url.replace(/\/?$/, '/recovery-codes.txt'), REDIRECT_URI);
    expect(download.status).toBe(409);

    const signedIn = await gh.runtime.repos.audit.list({ target: account.id, action: 'auth.signed_in', limit: 10 });
    expect(signedIn).toHaveLength(0);
    expect(await gh.runtime.mfa.hasAuthenticator(account.id)).toBe(false);
  });

  it('sends accounts flagged MFA-required by the policy hook to forced setup, and leaves the others alone', async () => {
    const flagged = await seedAccount(gh.runtime, tenant.id);
    const other = await seedAccount(gh.runtime, tenant.id);
    flaggedByPolicy.add(flagged.id);

    const { agent, start, page } = await afterPassword(plainApp, flagged.email);
    expect(isEnrolPage(page)).toBe(true);
    expect((await finishAuthorization(plainApp, start, (await enrolThroughPages(agent, page, REDIRECT_URI)).callback)).claims()).toMatchObject({ sub: flagged.id, ...MFA });

    const free = await afterPassword(plainApp, other.email);
    expect((await finishAuthorization(plainApp, free.start, free.page)).claims()).toMatchObject({ sub: other.id, amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' });
  });

  it('treats acr_values with the Gatehouse URN as a demand for MFA', () => enrolsAndGetsMfa(plainApp, { acr_values: ACR_MFA }));

  it('treats the PAPE multi-factor URI in acr_values as a synonym of the Gatehouse URN', () => enrolsAndGetsMfa(plainApp, { acr_values: PAPE_MFA }));

  it('treats an essential acr claim for MFA as a demand for MFA', () =>
    enrolsAndGetsMfa(plainApp, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: ACR_MFA } } }) }));

  it('advertises both acr values in discovery', () => {
    expect(plainApp.serverMetadata().acr_values_supported).toEqual(expect.arrayContaining([ACR_MFA, 'urn:gatehouse:acr:1fa']));
  });

  it('never accepts a pending (unconfirmed) secret at sign-in', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const abandoned = await afterPassword(strictApp, account.email);
    const pending = new Authenticator(setupKeyOf(abandoned.page));

    // posting a code of the pending secret to the verify step does not pass: that step is not even open
    const verified = await postInstead(abandoned.agent, abandoned.page, '/enrol', '/verify', { code: await pending.nextCode() }, REDIRECT_URI);
    expect(verified.status).toBe(409);
    expect(verified.url.startsWith(REDIRECT_URI)).toBe(false);

    // nor does the pending secret count as an authenticator: a client without MFA asks for no code
    const later = await afterPassword(plainApp, account.email);
    expect(isVerifyPage(later.page)).toBe(false);
    expect((await finishAuthorization(plainApp, later.start, later.page)).claims()).toMatchObject({ amr: ['pwd'] });
    expect(await gh.runtime.mfa.hasAuthenticator(account.id)).toBe(false);
  });

  it('shows the same pending secret while it is valid, and replaces it once it has expired', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const { agent, start, page } = await afterPassword(strictApp, account.email);
    const firstKey = setupKeyOf(page);
    expect(setupKeyOf(await agent.get(page.url, REDIRECT_URI))).toBe(firstKey); // a reload keeps the key the user may have scanned

    await expirePendingEnrolment(page);
    const stale = new Authenticator(firstKey);
    const expired = await agent.submit(page, '/enrol', { code: await stale.nextCode() }, REDIRECT_URI);
    expect(expired.status).toBe(400);
    expect(textOf(expired.html)).toContain('The setup expired.');
    expect(isEnrolPage(expired)).toBe(true);
    expect(setupKeyOf(expired)).not.toBe(firstKey);

    const { callback, authenticator } = await enrolThroughPages(agent, expired, REDIRECT_URI);
    expect(authenticator.secret).not.toBe(firstKey);
    expect((await finishAuthorization(strictApp, start, callback)).claims()).toMatchObject(MFA);
  });

  /** Moves the deadline of the setup this interaction started into the past, as if the user came back an hour later. */
  async function expirePendingEnrolment(page: Page) {
    const uid = /\/interaction\/([^/"]+)\/enrol/.exec(page.html)?.[1] ?? '';
    const flowId = (await gh.runtime.kv.get<{ enrolmentFlowId?: string }>(`interaction:${uid}`))?.enrolmentFlowId;
    const flow = await gh.runtime.kv.get<Record<string, unknown>>(`flow:${flowId}`);
    expect(flow).toBeDefined();
    await gh.runtime.kv.set(`flow:${flowId}`, { ...flow, expiresAt: new Date(Date.now() - 1000).toISOString() }, 60);
  }
});
