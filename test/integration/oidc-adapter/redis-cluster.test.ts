// REDIS_CLUSTER=true: against a real 3-master Redis Cluster (started here unless REDIS_CLUSTER_URL names
// one), the Redis adapter keeps the whole adapter contract although an artifact and its indexes live in
// different slots, and a full sign-in (password, a wrong TOTP code counted towards the lockout, the
// right one, code exchange, refresh) works on Gatehouse configured with the cluster.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { openRedis, scanKeys } from '../../../src/store/redis.ts';
import { adapterContract } from '../../helpers/adapter-contract.ts';
import { redisAdapterFixture } from '../../helpers/adapters.ts';
import { backendName } from '../../helpers/db.ts';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { importAuthenticator, isVerifyPage } from '../../helpers/mfa.ts';
import { startRedisCluster, type RedisClusterUnderTest } from '../../helpers/redis-servers.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';

let cluster: RedisClusterUnderTest;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(() => cluster.stop());

adapterContract('Redis adapter on a Redis Cluster', () => redisAdapterFixture(cluster.url, { cluster: true }));

describe(`sign-in with MFA on a Redis Cluster (${backendName()})`, () => {
  let gh: TestGatehouse;

  beforeAll(async () => {
    gh = await startTestGatehouse({ env: { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true' } });
  }, 60_000);
  afterAll(() => gh.stop());

  it('signs in with password and TOTP, counts a wrong code, and refreshes the tokens', async () => {
    const tenant = await seedTenant(gh.runtime);
    const account = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, account);
    const config = await rpConfig(gh.issuer, await seedClient(gh.runtime));

    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const verify = await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(verify)).toBe(true);
    const wrong = await agent.submit(verify, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
    expect(wrong.status).toBe(401);
    expect(textOf(wrong.html)).toContain('4 attempts left before the account is locked');
    const callback = await agent.submit(wrong, '/verify', { code: await app.nextCode() }, REDIRECT_URI);
    const tokens = await finishAuthorization(config, start, callback);
    expect(tokens.claims()?.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });

    // the sign-in's sessions, grants, tokens and counters are spread over the cluster's masters
    const redis = await openRedis(cluster.url, { cluster: true });
    try {
      const perMaster = await Promise.all(
        redis.masters.map(async (master) => {
          const node = await redis.nodeClient(master);
          let n = 0;
          for await (const keys of node.scanIterator({ MATCH: `${gh.runtime.redisPrefix}*`, COUNT: 500 })) n += keys.length;
          return n;
        }),
      );
      expect(perMaster.filter((n) => n > 0).length).toBeGreaterThan(1);
      const count = async (pattern: string) => {
        let n = 0;
        for await (const keys of scanKeys(redis, `${gh.runtime.redisPrefix}${pattern}`)) n += keys.length;
        return n;
      };
      expect(await count('oidc:oidc:Session:*')).toBe(1);
      // the reused refresh token revoked its grant: every token of it is gone from whichever node held it
      expect(await count('oidc:oidc:RefreshToken:*')).toBe(0);
    } finally {
      redis.destroy();
    }
  });
});
