// One email, accounts in several tenants (DESIGN.md §5 step 1): when the password opens more than one,
// the user picks by tenant name and the ID token names that account (`sub`) and its `tenant`; a
// password that opens only one goes straight through; `login_hint` and a tenant-bound client narrow.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, uniq } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';

type Tenant = Awaited<ReturnType<typeof seedTenant>>;
type Account = Awaited<ReturnType<typeof seedAccount>>;

const OTHER_PASSWORD = 'a different passphrase';

describe('choosing the account when one email has accounts in several tenants', () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let alpha: Tenant;
  let beta: Tenant;
  /** same email, same password in both tenants */
  let shared: { email: string; inAlpha: Account; inBeta: Account };
  /** same email, a different password in each tenant */
  let split: { email: string; inAlpha: Account; inBeta: Account };

  beforeAll(async () => {
    gh = await startTestGatehouse();
    // names chosen so that the page's alphabetical order differs from creation order
    beta = await seedTenant(gh.runtime, 'organization', `Beta Logistics ${uniq()}`);
    alpha = await seedTenant(gh.runtime, 'organization', `Alpha Foods ${uniq()}`);
    const sharedEmail = `shared-${uniq()}@example.com`;
    shared = {
      email: sharedEmail,
      inBeta: await seedAccount(gh.runtime, beta.id, { email: sharedEmail, name: 'Sam at Beta' }),
      inAlpha: await seedAccount(gh.runtime, alpha.id, { email: sharedEmail, name: 'Sam at Alpha' }),
    };
    const splitEmail = `split-${uniq()}@example.com`;
    split = {
      email: splitEmail,
      inAlpha: await seedAccount(gh.runtime, alpha.id, { email: splitEmail }),
      inBeta: await seedAccount(gh.runtime, beta.id, { email: splitEmail, password: OTHER_PASSWORD }),
    };
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(() => gh.stop());

  /** authorize → login page → password; returns the page the password leads to (choice page or the callback). */
  async function submitPassword(rp: oidc.Configuration, email: string, password: string, params: Record<string, string> = {}) {
    const agent = new UserAgent();
    const start = await startAuthorization(rp, params);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const next = await agent.submit(login, '/login', { email, password }, REDIRECT_URI);
    return { agent, start, next };
  }

  const tenantNamesOn = (page: Page) => [...page.html.matchAll(/<label for="account-\d+"><strong>([^<]*)<\/strong>/g)].map((m) => m[1]);

  it('lists both accounts by tenant name, alphabetically, when the password opens both', async () => {
    const { next } = await submitPassword(config, shared.email, PASSWORD);
    expect(next.status).toBe(200);
    expect(textOf(next.html)).toContain('Choose an account');
    expect(tenantNamesOn(next)).toEqual([alpha.name, beta.name]);
    // each choice is a labelled radio button carrying the account id, nothing else identifies it
    expect(next.html).toContain(`value="${shared.inAlpha.id}"`);
    expect(next.html).toContain(`value="${shared.inBeta.id}"`);
  });

  it.each([
    ['Beta', () => shared.inBeta, () => beta],
    ['Alpha', () => shared.inAlpha, () => alpha],
  ])('signs in to the chosen account (%s): sub and tenant claim name it', async (_label, accountOf, tenantOf) => {
    const { agent, start, next } = await submitPassword(config, shared.email, PASSWORD);
    const callback = await agent.submit(next, '/select', { account: accountOf().id }, REDIRECT_URI);
    const claims = (await finishAuthorization(config, start, callback)).claims();
    expect(claims).toMatchObject({ sub: accountOf().id, email: shared.email, amr: ['pwd'], tenant: { id: tenantOf().id, name: tenantOf().name } });
  });

  it('skips the choice when the password opens only one of the accounts', async () => {
    const first = await submitPassword(config, split.email, PASSWORD);
    expect(first.next.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await finishAuthorization(config, first.start, first.next)).claims()).toMatchObject({ sub: split.inAlpha.id, tenant: { id: alpha.id } });

    const second = await submitPassword(config, split.email, OTHER_PASSWORD);
    expect(second.next.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await finishAuthorization(config, second.start, second.next)).claims()).toMatchObject({ sub: split.inBeta.id, tenant: { id: beta.id } });
  });

  it('narrows to one account with a login_hint naming a tenant slug', async () => {
    const { start, next } = await submitPassword(config, shared.email, PASSWORD, { login_hint: beta.slug });
    expect(next.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await finishAuthorization(config, start, next)).claims()).toMatchObject({ sub: shared.inBeta.id, tenant: { id: beta.id } });
  });

  it('narrows to one account with a login_hint naming the account id', async () => {
    const { start, next } = await submitPassword(config, shared.email, PASSWORD, { login_hint: shared.inAlpha.id });
    expect(next.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await finishAuthorization(config, start, next)).claims()).toMatchObject({ sub: shared.inAlpha.id, tenant: { id: alpha.id } });
  });

  it('still offers the choice when the login_hint is the email itself (it names no single account)', async () => {
    const { next } = await submitPassword(config, shared.email, PASSWORD, { login_hint: shared.email });
    expect(tenantNamesOn(next)).toEqual([alpha.name, beta.name]);
  });

  it("signs a client bound to one tenant into that tenant's account, without a choice", async () => {
    const betaOnly = await rpConfig(gh.issuer, await seedClient(gh.runtime, { tenantId: beta.id }));
    const { start, next } = await submitPassword(betaOnly, shared.email, PASSWORD);
    expect(next.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await finishAuthorization(betaOnly, start, next)).claims()).toMatchObject({ sub: shared.inBeta.id, tenant: { id: beta.id, name: beta.name } });
  });

  it("refuses, as a wrong password, a password that opens only an account outside the client's tenant", async () => {
    const betaOnly = await rpConfig(gh.issuer, await seedClient(gh.runtime, { tenantId: beta.id }));
    const { next } = await submitPassword(betaOnly, split.email, PASSWORD);
    expect(next.status).toBe(401);
    expect(textOf(next.html)).toContain('Incorrect email or password.');
  });
});
