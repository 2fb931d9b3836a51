// Secrets at rest (DESIGN.md §9): TOTP secrets are sealed with AES-256-GCM under a key
// id (`v1.<kid>.…`) before they reach the database. A stolen database dump (every text column of every
// table, and Redis when used) never holds a TOTP secret in any usual spelling, nor a recovery code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type * as oidc from 'openid-client';
import { queryRows } from '../../../src/store/db.ts';
import { scanKeys } from '../../../src/store/redis.ts';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName } from '../../helpers/db.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import { Authenticator, importAuthenticator, isEnrolPage, newTotpSecret, recoveryCodesOf, setupKeyOf } from '../../helpers/mfa.ts';
import { base32Decode } from '../../helpers/totp-reference.ts';

const SEARCHABLE_TYPES = ['text', 'character varying', 'character', 'json', 'jsonb', 'bytea'];

/** The ways a secret could be written down: base32 as stored or grouped for display, the raw key as hex or base64. */
function spellings(base32: string): string[] {
  const raw = base32Decode(base32);
  return [base32, `${base32.slice(0, 4)} ${base32.slice(4, 8)} ${base32.slice(8, 12)}`, raw.toString('hex'), raw.toString('base64').replace(/=+$/, ''), raw.toString('base64url')];
}

describe(`TOTP secrets at rest (${backendName()}${process.env.REDIS_URL ? ' + Redis' : ''})`, () => {
  let gh: TestGatehouse;
  let strictApp: oidc.Configuration;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  let columns: { table_name: string; column_name: string }[];

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Proseware');
    strictApp = await rpConfig(gh.issuer, await seedClient(gh.runtime, { requireMfa: true }));
    columns = await queryRows(
      gh.runtime.database.db,
      sql`select table_name, column_name from information_schema.columns
          where table_schema = current_schema() and data_type in (${sql.join(SEARCHABLE_TYPES.map((t) => sql`${t}`), sql`, `)})
          order by table_name, column_name`,
    );
  });
  afterAll(() => gh.stop());

  /** Every `table.column` (and Redis key) whose content (or key name) contains `needle`, case-insensitively. */
  async function whereStored(needle: string): Promise<string[]> {
    const hits: string[] = [];
    for (const { table_name, column_name } of columns) {
      const [row] = await queryRows<{ n: number | string }>(
        gh.runtime.database.db,
        sql`select count(*) as n from ${sql.identifier(table_name)} where position(lower(${needle}) in lower(${sql.identifier(column_name)}::text)) > 0`,
      );
      if (Number(row?.n ?? 0) > 0) hits.push(`${table_name}.${column_name}`);
    }
    const redis = gh.runtime.redis;
    if (redis) {
      for await (const keys of scanKeys(redis, `${gh.runtime.redisPrefix}*`)) {
        for (const key of keys) {
          const type = await redis.type(key);
          const values =
            type === 'string' ? [await redis.get(key)]
            : type === 'hash' ? Object.values(await redis.hGetAll(key))
            : type === 'set' ? await redis.sMembers(key)
            : type === 'list' ? await redis.lRange(key, 0, -1)
            : type === 'zset' ? await redis.zRange(key, 0, -1)
            : [];
          if ([key, ...values].some((v) => typeof v === 'string' && v.toLowerCase().includes(needle.toLowerCase()))) hits.push(`redis ${key}`);
        }
      }
    }
    // the embedded default keeps oidc-provider's artifacts and the key-value entries in LMDB
    const lmdb = gh.runtime.lmdb;
    if (lmdb) {
      for (const [name, db] of [['oidc', lmdb.oidc], ['kv', lmdb.kv]] as const) {
        for (const { key, value } of db.getRange({})) {
          if (`${key.join('/')}\n${JSON.stringify(value)}`.toLowerCase().includes(needle.toLowerCase())) hits.push(`lmdb ${name} ${key.join('/')}`);
        }
      }
    }
    return hits;
  }

  async function expectNowhere(secret: string) {
    for (const spelling of spellings(secret)) expect({ spelling, foundIn: await whereStored(spelling) }).toEqual({ spelling, foundIn: [] });
  }

  const sealedSecretOf = async (accountId: string) =>
    (await queryRows<{ secret_enc: string }>(gh.runtime.database.db, sql`select secret_enc from authenticators where account_id = ${accountId}::uuid and kind = 'totp'`))[0]
      ?.secret_enc ?? '';

  it('finds what is stored in clear (the search itself works)', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    expect(columns.length).toBeGreaterThan(10);
    expect(await whereStored(account.email)).toContain('accounts.email');
  });

  it('seals an imported secret as v1.<key id>.… and keeps no clear copy anywhere', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const secret = newTotpSecret();
    await importAuthenticator(gh.runtime, account, secret);

    const sealed = await sealedSecretOf(account.id);
    expect(sealed.startsWith(`v1.${gh.runtime.box.currentKid}.`)).toBe(true);
    expect(sealed.split('.')).toHaveLength(5); // version, key id, IV, ciphertext, tag
    await expectNowhere(secret);
  });

  it('never stores the secret of an enrolment in clear, pending or confirmed, nor the recovery codes', async () => {
    const account = await seedAccount(gh.runtime, tenant.id);
    const agent = new UserAgent();
    const start = await startAuthorization(strictApp);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const setup = await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(isEnrolPage(setup)).toBe(true);
    const secret = setupKeyOf(setup);
    // the search reaches where this interaction is kept (Redis when configured, LMDB on the embedded default, else SQL)
    const uid = /\/interaction\/([^/"]+)\/enrol/.exec(setup.html)?.[1] ?? '';
    expect((await whereStored(uid)).some((hit) => hit.startsWith('redis ') === Boolean(gh.runtime.redis))).toBe(true);

    // pending: the secret is on the user's screen and sealed in this interaction's flow; the account has nothing yet
    expect(await gh.runtime.repos.authenticators.countForAccount(account.id)).toBe(0);
    await expectNowhere(secret);

    // confirmed, with the recovery codes on screen (kept sealed in the interaction state meanwhile)
    const codesPage = await agent.submit(setup, '/enrol', { code: await new Authenticator(secret).nextCode() }, REDIRECT_URI);
    const codes = recoveryCodesOf(codesPage);
    expect(codes).toHaveLength(10);
    expect((await sealedSecretOf(account.id)).startsWith('v1.')).toBe(true);
    await expectNowhere(secret);
    for (const code of codes) {
      expect({ code, foundIn: await whereStored(code) }).toEqual({ code, foundIn: [] });
      expect({ code, foundIn: await whereStored(code.replace(/-/g, '')) }).toEqual({ code, foundIn: [] });
    }

    const tokens = await finishAuthorization(strictApp, start, await agent.submit(codesPage, '/recovery-codes', { saved: 'yes' }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'] });
    await expectNowhere(secret);
  });

  it("binds a sealed secret to its account: copied into another account's row it opens nothing", async () => {
    const victim = await seedAccount(gh.runtime, tenant.id);
    const attacker = await seedAccount(gh.runtime, tenant.id);
    const victimApp = await importAuthenticator(gh.runtime, victim);
    await importAuthenticator(gh.runtime, attacker);
    await gh.runtime.database.db.execute(
      sql`update authenticators set secret_enc = (select secret_enc from authenticators where account_id = ${victim.id}::uuid) where account_id = ${attacker.id}::uuid`,
    );
    const owner = { id: attacker.id, email: attacker.email, name: attacker.name, tenantId: tenant.id, tenantName: tenant.name };
    await expect(gh.runtime.mfa.verifyTotp(owner, await victimApp.nextCode(), {})).rejects.toMatchObject({ code: 'secret_unreadable' });
  });
});
