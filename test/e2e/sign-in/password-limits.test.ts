// Password guessing limits over HTTP, behind a trusted proxy: the client IP is the one the proxy saw
// (a forged X-Forwarded-For buys nothing), an IPv6 client is counted by its /64, failures (not
// attempts) are counted per email and network so knowing an email does not lock its owner out, and
// the counters' keys are HMACs under the configured secret, not digests anyone could recompute.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { PASSWORD, REDIRECT_URI, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, findForm } from '../../helpers/user-agent.ts';
import { queryRows } from '../../../src/store/db.ts';

describe('password limits behind a trusted proxy', () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let tenantId: string;

  beforeAll(async () => {
    gh = await startTestGatehouse({
      env: { TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '1', LOGIN_MAX_PER_IP: '4', LOGIN_MAX_PER_ACCOUNT_IP: '3', LOGIN_MAX_PER_ACCOUNT: '20' },
    });
    tenantId = (await seedTenant(gh.runtime)).id;
    config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
  });
  afterAll(() => gh.stop());

  /** One sign-in attempt from a fresh browser, arriving through the proxy with this X-Forwarded-For. */
  async function attempt(email: string, password: string, forwardedFor: string): Promise<number> {
    const agent = new UserAgent();
    const page = await agent.get((await startAuthorization(config)).url.href, REDIRECT_URI);
    const form = findForm(page.html, '/login');
    const res = await agent.request(new URL(form.action, page.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
      body: new URLSearchParams({ ...form.hidden, email, password }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  const newEmail = async () => (await seedAccount(gh.runtime, tenantId)).email;

  it('audits the address the proxy saw, not the left-most X-Forwarded-For entry the client wrote', async () => {
    const email = await newEmail();
    expect(await attempt(email, 'wrong', '198.51.100.250, 203.0.113.7')).toBe(401);
    const [event] = await gh.runtime.repos.audit.list({ action: 'auth.password.failed', limit: 1 });
    expect(event?.ip).toBe('203.0.113.7');
  });

  it('a forged X-Forwarded-For entry per request does not buy attempts past the per-IP limit', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await attempt(`nobody-${i}@example.com`, 'guess', `10.9.8.${i}, 203.0.113.20`));
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
  });

  it('counts an IPv6 client by its /64: fresh addresses from one prefix are one client', async () => {
    const statuses = [];
    for (let i = 1; i <= 5; i++) statuses.push(await attempt(`nobody-v6-${i}@example.com`, 'guess', `2001:db8:5:1::${i}`));
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    expect(await attempt('nobody-v6@example.com', 'guess', '2001:db8:5:2::1')).toBe(401);
  });

  it('wrong passwords sent by someone who knows the email do not keep its owner out', async () => {
    const email = await newEmail();
    const attacker = [];
    for (let i = 0; i < 4; i++) attacker.push(await attempt(email, `guess ${i}`, '203.0.113.66'));
    expect(attacker).toEqual([401, 401, 401, 429]);
    // the attacker's network stays refused, even with the right password …
    expect(await attempt(email, PASSWORD, '203.0.113.66')).toBe(429);
    // … and the owner, elsewhere, signs in (redirected on to the next step)
    expect([302, 303]).toContain(await attempt(email, PASSWORD, '198.51.100.4'));
  });

  it('keys the shared counters with an HMAC under the configured secret, never a plain SHA-256 of the address', async () => {
    await attempt('nobody-keys@example.com', 'guess', '192.0.2.77');
    const name = 'login:ip:192.0.2.77';
    const plain = createHash('sha256').update(name).digest('hex');
    const keyed = createHmac('sha256', gh.runtime.box.deriveKey('rate-limit')).update(name).digest('hex');
    // the counters live in Redis, or in LMDB on the embedded default (SQL tables only for PostgreSQL without Redis)
    const { redis, lmdb } = gh.runtime;
    const stored = redis
      ? await redis.keys(`${gh.runtime.redisPrefix}*`)
      : lmdb
        ? [...lmdb.kv.getKeys({})].map((k) => k.join('/'))
        : (await queryRows<{ key: string }>(gh.runtime.database.db, sql`select key from counters`)).map((r) => r.key);
    expect(stored.some((k) => k.includes(keyed))).toBe(true);
    expect(stored.some((k) => k.includes(plain))).toBe(false);
    expect(stored.join('\n')).not.toContain('192.0.2.77');
  });
});
