// Sign-in through an upstream identity provider with Gatehouse MFA on top (issue 14), against a second,
// real oidc-provider started here as the upstream: link by verified email, create on first sign-in,
// upstream + local TOTP → ["fed","otp","mfa"], trusted upstream MFA → ["fed","mfa"] with no local
// prompt, untrusted → local prompt, enforced account without authenticator → forced setup, every
// upstream error → a clear page with a request id, deactivated account refused, step-up asks only
// for the second factor, email-first routing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, uniq, type AuthorizationStart } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { importAuthenticator, isEnrolPage, isVerifyPage } from '../../helpers/mfa.ts';
import { startUpstream, type TestUpstream, type UpstreamUser } from '../../helpers/upstream-idp.ts';
import { cliActor } from '../../../src/domain/admin/index.ts';
import type { IdpInput, IdpView } from '../../../src/domain/federation/idps.ts';
import { ACR_MFA } from '../../../src/domain/amr.ts';

describe(`sign-in through an upstream identity provider (${backendName()})`, () => {
  let gh: TestGatehouse;
  let up: TestUpstream;
  let dist: Awaited<ReturnType<typeof seedTenant>>;
  let app: oidc.Configuration;
  let mfaApp: oidc.Configuration;
  const cli = () => ({ actor: cliActor(dist.parentId ?? ''), request: { requestId: 'test' } });

  const createIdp = (input: Partial<IdpInput>): Promise<IdpView> =>
    gh.runtime.idps.create(cli(), {
      tenant: dist.id,
      displayName: `Contoso Entra ${uniq()}`,
      issuer: up.issuer,
      clientId: up.clientId,
      clientSecret: up.clientSecret,
      ...input,
    });

  /** authorize → sign-in page → "Sign in with …" → upstream → callback → the page after it. */
  async function viaUpstream(idp: IdpView, user: UpstreamUser, options: { config?: oidc.Configuration; agent?: UserAgent; params?: Record<string, string> } = {}) {
    const agent = options.agent ?? new UserAgent();
    const start = await startAuthorization(options.config ?? app, options.params);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    expect(login.html).toContain(`Sign in with ${idp.displayName}`);
    up.next = user;
    const page = await agent.submit(login, '/federate', { idp: idp.slug }, REDIRECT_URI);
    return { agent, start, page };
  }

  const tokens = (config: oidc.Configuration, start: AuthorizationStart, page: Page) => finishAuthorization(config, start, page);
  const user = (email: string, extra: Partial<UpstreamUser> = {}): UpstreamUser => ({ sub: `up-${uniq()}`, email, ...extra });

  beforeAll(async () => {
    gh = await startTestGatehouse({ upstreamTimeoutMs: 1000 });
    up = await startUpstream(`${gh.issuer}/federation/callback`);
    dist = await seedTenant(gh.runtime, 'distributor', 'Contoso Partners');
    app = await rpConfig(gh.issuer, await seedClient(gh.runtime, { tenantId: dist.id }));
    mfaApp = await rpConfig(gh.issuer, await seedClient(gh.runtime, { tenantId: dist.id, requireMfa: true }));
  });
  afterAll(async () => {
    await up.stop();
    await gh.stop();
  });

  it('links an existing account by verified email, issues amr ["fed"], and finds it again by the link', async () => {
    const idp = await createIdp({ accountMatching: 'link' });
    const account = await seedAccount(gh.runtime, dist.id);
    const upstreamUser = user(account.email);
    const { start, page } = await viaUpstream(idp, upstreamUser);
    const claims = (await tokens(app, start, page)).claims();
    expect(claims).toMatchObject({ sub: account.id, amr: ['fed'], acr: 'urn:gatehouse:acr:1fa' });
    expect(await gh.runtime.repos.upstreamIdps.findLink(idp.id, upstreamUser.sub)).toEqual({ accountId: account.id });

    // the link, not the email, names the account from now on
    const again = await viaUpstream(idp, { ...upstreamUser, email: `renamed-${uniq()}@example.com` });
    expect((await tokens(app, again.start, again.page)).claims()).toMatchObject({ sub: account.id, amr: ['fed'] });
  });

  it('refuses an unverified upstream email and an unknown account when matching is link (clear 403 pages)', async () => {
    const idp = await createIdp({ accountMatching: 'link' });
    const account = await seedAccount(gh.runtime, dist.id);
    const unverified = await viaUpstream(idp, user(account.email, { emailVerified: false }));
    expect(unverified.page.status).toBe(403);
    expect(textOf(unverified.page.html)).toContain('did not confirm a verified email address');
    const unknown = await viaUpstream(idp, user(`stranger-${uniq()}@example.com`));
    expect(unknown.page.status).toBe(403);
    expect(textOf(unknown.page.html)).toContain('Ask your administrator to invite you');
  });

  it('creates the account on first sign-in with the default role when matching is create', async () => {
    const idp = await createIdp({ accountMatching: 'create', defaultRole: 'support' });
    const email = `new-${uniq()}@contoso.example`;
    const { start, page } = await viaUpstream(idp, user(email, { name: 'Nadia New' }));
    const claims = (await tokens(app, start, page)).claims();
    const created = await gh.runtime.repos.accounts.findInTenant(dist.id, email);
    expect(created).toMatchObject({ role: 'support', source: 'upstream', emailVerified: true, name: 'Nadia New', passwordHash: null });
    expect(claims).toMatchObject({ sub: created?.id, amr: ['fed'] });
  });

  it('asks an account with an authenticator for its code after an untrusted upstream, even when the upstream reports MFA: ["fed","otp","mfa"]', async () => {
    const idp = await createIdp({ trustUpstreamMfa: false });
    const account = await seedAccount(gh.runtime, dist.id);
    const authenticator = await importAuthenticator(gh.runtime, account);
    const { agent, start, page } = await viaUpstream(idp, user(account.email, { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:upstream:mfa' }));
    expect(isVerifyPage(page)).toBe(true);
    const done = await agent.submit(page, '/verify', { code: await authenticator.nextCode() }, REDIRECT_URI);
    expect((await tokens(app, start, done)).claims()).toMatchObject({ sub: account.id, amr: ['fed', 'otp', 'mfa'], acr: ACR_MFA });
  });

  it('skips the local step when the IdP is trusted for MFA and reports it (amr mfa, or a mapped acr): ["fed","mfa"]', async () => {
    const idp = await createIdp({ trustUpstreamMfa: true, mfaAcrValues: ['urn:upstream:mfa'] });
    const account = await seedAccount(gh.runtime, dist.id);
    await importAuthenticator(gh.runtime, account);
    const byAmr = await viaUpstream(idp, user(account.email, { amr: ['pwd', 'mfa'] }));
    expect(isVerifyPage(byAmr.page)).toBe(false);
    expect((await tokens(app, byAmr.start, byAmr.page)).claims()).toMatchObject({ sub: account.id, amr: ['fed', 'mfa'], acr: ACR_MFA });

    const other = await seedAccount(gh.runtime, dist.id);
    const byAcr = await viaUpstream(idp, user(other.email, { amr: ['pwd'], acr: 'urn:upstream:mfa' }), { config: mfaApp });
    expect((await tokens(mfaApp, byAcr.start, byAcr.page)).claims()).toMatchObject({ sub: other.id, amr: ['fed', 'mfa'] });

    // trusted, but the upstream did no MFA: the local step applies
    const third = await seedAccount(gh.runtime, dist.id);
    await importAuthenticator(gh.runtime, third);
    expect(isVerifyPage((await viaUpstream(idp, user(third.email, { amr: ['pwd'] }))).page)).toBe(true);
  });

  it('sends an account without authenticator to forced setup when MFA is required, after the upstream', async () => {
    const idp = await createIdp({});
    const account = await seedAccount(gh.runtime, dist.id);
    const { page } = await viaUpstream(idp, user(account.email), { config: mfaApp });
    expect(isEnrolPage(page)).toBe(true);
  });

  it('asks only for the second factor at a step-up after an upstream sign-in', async () => {
    const idp = await createIdp({});
    const account = await seedAccount(gh.runtime, dist.id);
    const first = await viaUpstream(idp, user(account.email));
    expect((await tokens(app, first.start, first.page)).claims()).toMatchObject({ amr: ['fed'] });
    const authenticator = await importAuthenticator(gh.runtime, account);

    const start = await startAuthorization(app, { acr_values: ACR_MFA });
    const page = await first.agent.get(start.url.href, REDIRECT_URI);
    expect(isVerifyPage(page)).toBe(true);
    const done = await first.agent.submit(page, '/verify', { code: await authenticator.nextCode() }, REDIRECT_URI);
    expect((await tokens(app, start, done)).claims()).toMatchObject({ sub: account.id, amr: ['fed', 'otp', 'mfa'] });
  });

  it('refuses a deactivated account', async () => {
    const idp = await createIdp({});
    const account = await seedAccount(gh.runtime, dist.id);
    const upstreamUser = user(account.email);
    const linked = await viaUpstream(idp, upstreamUser);
    await tokens(app, linked.start, linked.page);
    await gh.runtime.repos.accounts.setStatus(account.id, 'disabled');
    const { page } = await viaUpstream(idp, upstreamUser);
    expect(page.status).toBe(403);
    expect(textOf(page.html)).toContain('This account is deactivated.');
  });

  it('routes an email of a configured domain to its IdP (email first); other emails get the same answer as before', async () => {
    const domain = `fabrikam-${uniq()}.example`;
    const idp = await createIdp({ allowedDomains: [domain] });
    const account = await seedAccount(gh.runtime, dist.id, { email: `emma@${domain}` });
    const agent = new UserAgent();
    const start = await startAuthorization(app);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    up.next = user(account.email);
    const done = await agent.submit(login, '/login', { email: account.email, password: '' }, REDIRECT_URI);
    expect((await tokens(app, start, done)).claims()).toMatchObject({ sub: account.id, amr: ['fed'] });
    expect(idp.allowedDomains).toEqual([domain]);

    const other = new UserAgent();
    const otherStart = await startAuthorization(app);
    const answer = await other.submit(await other.get(otherStart.url.href, REDIRECT_URI), '/login', { email: `nobody@unrouted-${uniq()}.example`, password: '' }, REDIRECT_URI);
    expect(answer.status).toBe(400);
    expect(textOf(answer.html)).toContain('Enter your email and password.');
  });

  describe('upstream errors end on a clear page with a request id, never a 500', () => {
    const requestIdShown = (page: Page) => expect(page.html).toMatch(/class="request-id">[^<]+</);

    it('the user cancels at the upstream', async () => {
      const idp = await createIdp({});
      up.mode = 'deny';
      try {
        const { page } = await viaUpstream(idp, user(`x-${uniq()}@example.com`));
        expect(page.status).toBe(401);
        expect(textOf(page.html)).toContain('was cancelled or refused there');
        requestIdShown(page);
      } finally {
        up.mode = 'normal';
      }
    });

    it('a wrong, replayed or missing state', async () => {
      const idp = await createIdp({});
      const account = await seedAccount(gh.runtime, dist.id);
      const agent = new UserAgent();
      const start = await startAuthorization(app);
      const login = await agent.get(start.url.href, REDIRECT_URI);
      up.next = user(account.email);
      // stop at the callback to replay it afterwards
      const callback = await agent.submit(login, '/federate', { idp: idp.slug }, `${gh.issuer}/federation/callback`);
      const first = await agent.get(callback.url, REDIRECT_URI);
      expect((await tokens(app, start, first)).claims()).toMatchObject({ sub: account.id });
      for (const url of [callback.url, `${gh.issuer}/federation/callback?state=forged&code=x`, `${gh.issuer}/federation/callback`]) {
        const page = await agent.get(url);
        expect(page.status).toBe(400);
        expect(textOf(page.html)).toContain('This sign-in has expired or was already completed.');
        requestIdShown(page);
      }
    });

    it('an ID token that does not verify', async () => {
      const idp = await createIdp({});
      up.mode = 'tamper';
      try {
        const { page } = await viaUpstream(idp, user(`x-${uniq()}@example.com`));
        expect(page.status).toBe(502);
        expect(textOf(page.html)).toContain('could not be verified');
        requestIdShown(page);
      } finally {
        up.mode = 'normal';
      }
    });

    it('an unreachable upstream and one that answers too slowly (at the code exchange: the discovery document is cached)', async () => {
      const idp = await createIdp({});
      /** the user signs in at the upstream, which then fails before Gatehouse exchanges the code. */
      const failingExchange = async (mode: 'down' | 'slow') => {
        const agent = new UserAgent();
        const login = await agent.get((await startAuthorization(app)).url.href, REDIRECT_URI);
        up.next = user(`x-${uniq()}@example.com`);
        const callback = await agent.submit(login, '/federate', { idp: idp.slug }, `${gh.issuer}/federation/callback`);
        up.mode = mode;
        return agent.get(callback.url, REDIRECT_URI);
      };
      try {
        const page = await failingExchange('down');
        expect(page.status).toBe(502);
        expect(textOf(page.html)).toContain('cannot be reached right now');
        requestIdShown(page);
      } finally {
        up.mode = 'normal';
      }
      up.slowMs = 2500;
      try {
        const page = await failingExchange('slow');
        expect(page.status).toBe(504);
        expect(textOf(page.html)).toContain('did not answer in time');
        requestIdShown(page);
      } finally {
        up.mode = 'normal';
      }
    });
  });
});
