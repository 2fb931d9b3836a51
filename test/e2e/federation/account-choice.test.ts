// A global upstream IdP used from an application not bound to a tenant, by someone whose email owns
// accounts in several tenants: after the upstream, the account-choice page lists the accounts this
// application may receive and the IdP may link (active ones), and the chosen one signs in with
// amr ["fed"]. No link is stored, so the choice is offered again next time. An application bound to
// a tenant gets that tenant's account without a choice.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, uniq } from '../../helpers/seed.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream-idp.ts';
import { cliActor } from '../../../src/domain/admin/index.ts';
import type { IdpView } from '../../../src/domain/federation/idps.ts';

describe(`global upstream IdP, email with accounts in several tenants (${backendName()})`, () => {
  let gh: TestGatehouse;
  let up: TestUpstream;
  let idp: IdpView;
  const tenants: Record<'a' | 'b' | 'c', Awaited<ReturnType<typeof seedTenant>>> = {} as never;

  async function viaUpstream(config: oidc.Configuration, email: string, sub: string) {
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    expect(login.html).toContain(`Sign in with ${idp.displayName}`);
    up.next = { sub, email };
    const page = await agent.submit(login, '/federate', { idp: idp.slug }, REDIRECT_URI);
    return { agent, start, page };
  }

  beforeAll(async () => {
    gh = await startTestGatehouse();
    up = await startUpstream(`${gh.issuer}/federation/callback`);
    tenants.a = await seedTenant(gh.runtime, 'organization', `Alpha ${uniq()}`);
    tenants.b = await seedTenant(gh.runtime, 'organization', `Beta ${uniq()}`);
    tenants.c = await seedTenant(gh.runtime, 'organization', `Gamma ${uniq()}`);
    const platform = (await gh.runtime.repos.tenants.findById(tenants.a.parentId ?? ''))?.parentId ?? '';
    idp = await gh.runtime.idps.create(
      { actor: cliActor(platform), request: { requestId: 'test' } },
      { displayName: `Global Entra ${uniq()}`, issuer: up.issuer, clientId: up.clientId, clientSecret: up.clientSecret, accountMatching: 'link' },
    );
  });
  afterAll(async () => {
    await up.stop();
    await gh.stop();
  });

  it('shows the account chooser with the active accounts, signs in the chosen one with amr ["fed"], and links none', async () => {
    const email = `multi-${uniq()}@example.com`;
    const inA = await seedAccount(gh.runtime, tenants.a.id, { email });
    const inB = await seedAccount(gh.runtime, tenants.b.id, { email });
    const inC = await seedAccount(gh.runtime, tenants.c.id, { email });
    await gh.runtime.repos.accounts.setStatus(inC.id, 'disabled');
    const unbound = await rpConfig(gh.issuer, await seedClient(gh.runtime));
    const sub = `up-${uniq()}`;

    const { agent, start, page } = await viaUpstream(unbound, email, sub);
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('Choose an account');
    expect(text).toContain(tenants.a.name);
    expect(text).toContain(tenants.b.name);
    expect(text).not.toContain(tenants.c.name);
    expect(page.html).not.toContain(inC.id);

    const done = await agent.submit(page, '/select', { account: inB.id }, REDIRECT_URI);
    expect((await finishAuthorization(unbound, start, done)).claims()).toMatchObject({ sub: inB.id, amr: ['fed'], acr: 'urn:gatehouse:acr:1fa' });
    expect(await gh.runtime.repos.upstreamIdps.findLink(idp.id, sub)).toBeUndefined();

    // an account not offered cannot be chosen by editing the form
    const again = await viaUpstream(unbound, email, sub);
    const forged = await again.agent.submit(again.page, '/select', { account: inC.id }, REDIRECT_URI);
    expect(forged.status).toBe(400);
    // the next sign-in offers the choice again, and the other account can be chosen
    const third = await viaUpstream(unbound, email, sub);
    const chosenA = await third.agent.submit(third.page, '/select', { account: inA.id }, REDIRECT_URI);
    expect((await finishAuthorization(unbound, third.start, chosenA)).claims()).toMatchObject({ sub: inA.id, amr: ['fed'] });
  });

  it('signs an application bound to a tenant straight into that tenant’s account', async () => {
    const email = `multi-${uniq()}@example.com`;
    await seedAccount(gh.runtime, tenants.a.id, { email });
    const inB = await seedAccount(gh.runtime, tenants.b.id, { email });
    const boundToB = await rpConfig(gh.issuer, await seedClient(gh.runtime, { tenantId: tenants.b.id }));
    const { start, page } = await viaUpstream(boundToB, email, `up-${uniq()}`);
    expect((await finishAuthorization(boundToB, start, page)).claims()).toMatchObject({ sub: inB.id, amr: ['fed'] });
  });
});
