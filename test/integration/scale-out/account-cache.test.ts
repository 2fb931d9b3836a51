// findAccount serves account rows from memory (src/oidc/accounts.ts, src/store/kept-account-rows.ts)
// under the accounts' change generation. Two runtimes on one database and one change-signal store (Redis under
// one prefix, or one LMDB directory) stand for two instances: a change written through one is seen by
// the other's findAccount on its next lookup. A change written behind the repositories' back (raw SQL,
// announced to nobody) shows that the second runtime does serve from memory, so the refusals below are
// the invalidation's doing. The same proof over HTTP with processes is change-signals.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { openRuntime, type Runtime } from '../../../src/runtime.ts';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { createFindAccount } from '../../../src/oidc/accounts.ts';
import { KEPT_FOR_MS, keepAccountRows } from '../../../src/store/kept-account-rows.ts';
import { tenantTreePolicy } from '../../../src/domain/mfa/policy-source.ts';
import { accounts } from '../../../src/store/schema.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { testRedisUrl, uniquePrefix } from '../../helpers/redis.ts';
import { TEST_SETTINGS } from '../../helpers/settings.ts';
import { seedAccount, seedTenant } from '../../helpers/seed.ts';

const ctx = {} as KoaContextWithOIDC;
/** an access token as findAccount receives it (no amr/acr extras). */
const token = {};

describe(`findAccount's memory across two instances (${backendName()}${testRedisUrl() ? ' + Redis' : ', LMDB'})`, () => {
  let database: TestDatabase;
  let dataDir: string;
  let a: Runtime;
  let b: Runtime;
  let findOnB: ReturnType<typeof createFindAccount>;
  let tenantId: string;
  /** B's clock for the rows it keeps (the ages below are moved by hand). */
  let clock = Date.now();

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-account-cache-'));
    const config = loadConfig({
      ...TEST_SETTINGS,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      GATEHOUSE_SECRET_KEY: generateSecretKey(),
      ...(testRedisUrl() ? { REDIS_URL: testRedisUrl() as string } : {}),
    });
    const redisPrefix = uniquePrefix();
    a = await openRuntime(config, createLogger(config), { role: 'server', database, redisPrefix });
    b = await openRuntime(config, createLogger(config), { role: 'server', database, redisPrefix });
    findOnB = createFindAccount(keepAccountRows(b.repos.accounts, b.signals, () => clock), b.repos.authenticators, tenantTreePolicy);
    await a.repos.tenants.ensurePlatform('Platform');
    tenantId = (await seedTenant(a, 'organization')).id;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const nameOnB = async (id: string, forToken = true) => {
    const found = await findOnB(ctx, id, forToken ? token : undefined);
    return found ? ((await found.claims('userinfo', 'openid', {}, [])) as { name?: string }).name : undefined;
  };
  const renameBehindTheBack = (id: string, name: string) => database.db.update(accounts).set({ name }).where(eq(accounts.id, id));

  it('serves a token lookup from memory until a change is announced, and reads again at once after one', async () => {
    const account = await seedAccount(a, tenantId, { name: 'First Name' });
    expect(await nameOnB(account.id)).toBe('First Name');

    await renameBehindTheBack(account.id, 'Unannounced Name');
    expect(await nameOnB(account.id)).toBe('First Name'); // from memory
    expect(await nameOnB(account.id, false)).toBe('First Name'); // a sign-in's session check too, read seconds ago

    // an announced change on A (here: the role) makes B read the row again
    await a.repos.accounts.setRole(account.id, 'support');
    expect(await nameOnB(account.id)).toBe('Unannounced Name');
  });

  it("leaves what a sign-in's lookup (without a token) read for the token exchange that follows", async () => {
    const account = await seedAccount(a, tenantId, { name: 'At Sign-in' });
    expect(await nameOnB(account.id, false)).toBe('At Sign-in');
    await renameBehindTheBack(account.id, 'Unannounced Name');
    expect(await nameOnB(account.id)).toBe('At Sign-in'); // the token lookup did not read again
    await a.repos.accounts.setRole(account.id, 'support');
    expect(await nameOnB(account.id)).toBe('Unannounced Name');
  });

  it('reads again once a kept row is older than its lookup allows, without any announced change', async () => {
    const account = await seedAccount(a, tenantId, { name: 'Kept' });
    expect(await nameOnB(account.id)).toBe('Kept');
    await renameBehindTheBack(account.id, 'Unannounced Name');
    try {
      clock += KEPT_FOR_MS.signIn + 1;
      expect(await nameOnB(account.id)).toBe('Kept'); // a token's lookup may still use it
      expect(await nameOnB(account.id, false)).toBe('Unannounced Name'); // a sign-in's may not
      await renameBehindTheBack(account.id, 'Renamed Again');
      clock += KEPT_FOR_MS.token + 1;
      expect(await nameOnB(account.id)).toBe('Renamed Again');
    } finally {
      clock = Date.now();
    }
  });

  it("serves the rows of the password step's email lookup to the reads that follow it, until a change is announced", async () => {
    const rows = keepAccountRows(b.repos.accounts, b.signals);
    const account = await seedAccount(a, tenantId, { name: 'By Email' });
    expect((await rows.findByEmail(account.email)).map((r) => r.id)).toEqual([account.id]);
    await renameBehindTheBack(account.id, 'Unannounced Name');
    expect((await rows.findById(account.id, KEPT_FOR_MS.signIn))?.name).toBe('By Email');
    expect((await rows.findByEmail(account.email))[0]?.name).toBe('Unannounced Name'); // the email lookup always reads

    await a.repos.accounts.setStatus(account.id, 'disabled');
    expect((await rows.findById(account.id, KEPT_FOR_MS.signIn))?.status).toBe('disabled');
  });

  it('refuses at once on B an account disabled on A, and serves it again once reactivated on A', async () => {
    const account = await seedAccount(a, tenantId);
    expect(await findOnB(ctx, account.id, token)).toMatchObject({ accountId: account.id });

    await a.repos.accounts.setStatus(account.id, 'disabled');
    expect(await findOnB(ctx, account.id, token)).toBeUndefined();

    await a.repos.accounts.setStatus(account.id, 'active');
    expect(await findOnB(ctx, account.id, token)).toMatchObject({ accountId: account.id });
  });

  it('tells B at once of an email switched on A and of a SCIM profile update or deletion on A', async () => {
    const account = await seedAccount(a, tenantId, { name: 'Before' });
    const emailOnB = async () => ((await (await findOnB(ctx, account.id, token))?.claims('id_token', 'openid email', {}, [])) as { email?: string } | undefined)?.email;
    expect(await emailOnB()).toBe(account.email);

    const switched = `switched-${account.id}@example.com`;
    expect(await a.repos.accountEmail.switchEmail(account.id, account.email, switched, new Date())).toBe('changed');
    expect(await emailOnB()).toBe(switched);

    await a.repos.scim.updateProfile(account.id, { name: 'After' });
    expect(await nameOnB(account.id)).toBe('After');

    await a.repos.scim.remove(account.id);
    expect(await findOnB(ctx, account.id, token)).toBeUndefined();
  });

  it('tells B at once that an account on A got its first authenticator (its MFA facts change)', async () => {
    const account = await seedAccount(a, tenantId);
    expect((await findOnB(ctx, account.id, token))?.mfa.hasAuthenticator).toBe(false);
    await a.repos.authenticators.addTotp({ accountId: account.id, label: 'Phone', secretEnc: a.box.seal('JBSWY3DPEHPK3PXP'), lastUsedStep: 0, source: 'enrolled' }, { onlyIfNone: true });
    expect((await findOnB(ctx, account.id, token))?.mfa.hasAuthenticator).toBe(true);
  });
});
