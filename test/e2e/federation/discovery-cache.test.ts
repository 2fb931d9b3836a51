// The upstream's discovery document is read once, not on every federation sign-in: sign-ins reuse it
// until its Cache-Control lifetime (bounded) ends; an upstream that rotated its signing key is still
// accepted, the JWKS fetched again once for the unknown key id. Requests are counted at the upstream
// (test/helpers/upstream-idp.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, uniq } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream-idp.ts';
import { cliActor } from '../../../src/domain/admin/index.ts';
import type { IdpView } from '../../../src/domain/federation/idps.ts';
import { createUpstreamOidc } from '../../../src/federation/upstream-client.ts';

const DISCOVERY = '/.well-known/openid-configuration';

describe(`upstream discovery cache (${backendName()})`, () => {
  let gh: TestGatehouse;
  let up: TestUpstream;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  let app: oidc.Configuration;
  let idp: IdpView;

  async function signIn(email: string) {
    const agent = new UserAgent();
    const start = await startAuthorization(app);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    up.next = { sub: `up-${email}`, email };
    const page = await agent.submit(login, '/federate', { idp: idp.slug }, REDIRECT_URI);
    return (await finishAuthorization(app, start, page)).claims();
  }

  beforeAll(async () => {
    gh = await startTestGatehouse({ upstreamTimeoutMs: 2000 });
    up = await startUpstream(`${gh.issuer}/federation/callback`);
    tenant = await seedTenant(gh.runtime, 'distributor', `Fabrikam ${uniq()}`);
    app = await rpConfig(gh.issuer, await seedClient(gh.runtime, { tenantId: tenant.id }));
    idp = await gh.runtime.idps.create(
      { actor: cliActor(tenant.parentId ?? ''), request: { requestId: 'test' } },
      { tenant: tenant.id, displayName: `Fabrikam Entra ${uniq()}`, issuer: up.issuer, clientId: up.clientId, clientSecret: up.clientSecret, accountMatching: 'link' },
    );
  });
  afterAll(async () => {
    await up.stop();
    await gh.stop();
  });

  it('reads the discovery document once for many sign-ins, and accepts a rotated signing key by fetching the JWKS once more', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const discoveriesAtStart = up.requests[DISCOVERY] ?? 0;
    for (let i = 0; i < 3; i++) expect(await signIn(account.email)).toMatchObject({ sub: account.id, amr: ['fed'] });
    // saving the IdP discovered it; the sign-ins reuse that document
    expect((up.requests[DISCOVERY] ?? 0) - discoveriesAtStart).toBe(0);
    const jwksBefore = up.requests['/jwks'] ?? 0;
    expect(jwksBefore).toBe(1);

    await up.rotateKey();
    expect(await signIn(account.email)).toMatchObject({ sub: account.id, amr: ['fed'] });
    expect(up.requests['/jwks']).toBe(jwksBefore + 1);
    expect(await signIn(account.email)).toMatchObject({ sub: account.id });
    expect(up.requests['/jwks']).toBe(jwksBefore + 1);
    expect((up.requests[DISCOVERY] ?? 0) - discoveriesAtStart).toBe(0);
  });

  it('reads the document again when its Cache-Control lifetime ends, and not before', async () => {
    let clock = Date.now();
    const client = createUpstreamOidc({ timeoutMs: 2000, now: () => clock });
    const config = { issuer: up.issuer, clientId: up.clientId, clientSecret: up.clientSecret };
    const params = { redirectUri: `${gh.issuer}/federation/callback`, scope: 'openid email', state: 's', nonce: 'n', codeChallenge: 'c'.repeat(43) };
    up.discoveryCacheControl = 'public, max-age=300';
    const before = up.requests[DISCOVERY] ?? 0;
    await client.authorizationUrl(config, params);
    await client.authorizationUrl(config, params);
    expect(up.requests[DISCOVERY]).toBe(before + 1);
    clock += 299_000;
    await client.authorizationUrl(config, params);
    expect(up.requests[DISCOVERY]).toBe(before + 1);
    clock += 2_000;
    await client.authorizationUrl(config, params);
    expect(up.requests[DISCOVERY]).toBe(before + 2);
    // without Cache-Control: an hour
    up.discoveryCacheControl = undefined;
    clock += 301_000;
    await client.authorizationUrl(config, params);
    expect(up.requests[DISCOVERY]).toBe(before + 3);
    clock += 3_599_000;
    await client.authorizationUrl(config, params);
    expect(up.requests[DISCOVERY]).toBe(before + 3);
    clock += 2_000;
    await client.authorizationUrl(config, params);
    expect(up.requests[DISCOVERY]).toBe(before + 4);
  });
});
