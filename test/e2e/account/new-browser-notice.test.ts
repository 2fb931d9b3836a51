// The optional new-browser notice (NEW_BROWSER_NOTICE=true): the first sign-in of an account in a
// browser mails the owner; later sign-ins in that browser do not; another browser mails again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';

describe(`new-browser notice (${backendName()})`, () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse({ env: { NEW_BROWSER_NOTICE: 'true' } });
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime, { name: 'Flight Ops' }));
  });
  afterAll(() => gh.stop());

  it('mails the owner once per new browser', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const notices = async () => {
      await gh.runtime.deferred.settled();
      return (await gh.deliverMail()).filter((m) => m.to === account.email && m.subject === 'New sign-in to your Gatehouse account');
    };
    const browser = new UserAgent();
    await passwordSignIn(config, account.email, undefined, { prompt: 'login' }, browser);
    expect(await notices()).toHaveLength(1);
    expect((await notices())[0]?.text).toContain('Flight Ops');
    await passwordSignIn(config, account.email, undefined, { prompt: 'login' }, browser);
    expect(await notices()).toHaveLength(1);
    await passwordSignIn(config, account.email, undefined, {}, new UserAgent());
    expect(await notices()).toHaveLength(2);
  });
});
