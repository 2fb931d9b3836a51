// auth_time is the time of the last interactive authentication (DESIGN.md §6): a consent page answered
// later must not move it forward, or an RP's max-age check sees a fresh sign-in that is not one.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';

describe(`auth_time across the consent page (${backendName()})`, () => {
  let gh: TestGatehouse;
  let thirdParty: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime);
    thirdParty = await rpConfig(gh.issuer, await seedClient(gh.runtime, { firstParty: false }));
  });
  afterAll(() => gh.stop());

  it('keeps auth_time at the password, not at the later consent', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const agent = new UserAgent();
    const start = await startAuthorization(thirdParty);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const signedInAt = Math.floor(Date.now() / 1000);
    const consent = await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(consent.html).toContain('/consent');
    await sleep(2_500);
    const consentedAt = Math.floor(Date.now() / 1000);
    const claims = (await finishAuthorization(thirdParty, start, await agent.submit(consent, '/consent', {}, REDIRECT_URI))).claims();
    expect(claims?.auth_time).toBeGreaterThanOrEqual(signedInAt);
    expect(claims?.auth_time).toBeLessThan(consentedAt);
  });
});
