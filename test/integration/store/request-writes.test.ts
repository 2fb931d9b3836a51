// One request's audit events, last-login update and lockout reset are written in one statement when it ends, also
// when it fails; outside a request, and after its writes were written, each write goes straight through.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { MAX_EVENTS_PER_STATEMENT, createRequestWrites, type RequestWrites } from '../../../src/store/request-writes.ts';
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../../src/store/db.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

type Session = Db['_']['session'];

/** The database handle, counting the statements its session runs (the batch goes through a prepared query). */
function counting(db: Db): { db: Db; executed: () => number } {
  let executed = 0;
  const countingSession = (session: Session): Session =>
    new Proxy(session, {
      get(target, name, receiver) {
        if (name !== 'prepareQuery') return Reflect.get(target, name, receiver) as unknown;
        return (...args: Parameters<Session['prepareQuery']>) => {
          const prepared = target.prepareQuery(...args);
          return new Proxy(prepared, {
            get(p, key, r) {
              if (key !== 'execute') return Reflect.get(p, key, r) as unknown;
              return (values?: Record<string, unknown>) => {
                executed++;
                return p.execute(values);
              };
            },
          });
        };
      },
    });
  const wrapped = new Proxy(db, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      return name === '_' ? { ...target._, session: countingSession(target._.session) } : value;
    },
  });
  return { db: wrapped, executed: () => executed };
}

describe(`request writes on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let tenantId: string;
  let accountId: string;
  let statements: () => number;
  let writes: RequestWrites;
  const direct: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    tenantId = (await repos.tenants.create({ kind: 'distributor', name: 'Writes', parentId: platform.id })).id;
    accountId = (await repos.accounts.create({ tenantId, email: 'writes@example.test', passwordHash: null })).id;
    const { db, executed } = counting(database.db);
    statements = executed;
    writes = createRequestWrites(db, {
      record: (event) => {
        direct.push(event.action);
        return repos.audit.record(event);
      },
      recordLogin: (id) => {
        direct.push('login');
        return repos.accounts.recordLogin(id);
      },
      resetLockout: (id) => {
        direct.push('lockout reset');
        return repos.lockouts.reset(id);
      },
    });
  });
  afterAll(() => database.dispose());

  const lastLogin = async () => (await repos.accounts.listByTenant(tenantId)).find((a) => a.id === accountId)?.lastLoginAt ?? null;
  const actions = async (target: string) => (await repos.audit.list({ target, limit: 10 })).map((e) => e.action).reverse();

  it("writes a request's events and its last login in one statement when the request ends", async () => {
    const before = statements();
    let seenInside: string[] = [];
    await writes.around(async () => {
      await writes.audit.record({ action: 'auth.password.succeeded', target: 'one', tenantId, ip: '192.0.2.1', detail: { accounts: 1 } });
      await writes.recordLogin(accountId);
      await writes.audit.record({ action: 'auth.signed_in', target: 'one', tenantId, actorAccountId: accountId });
      seenInside = await actions('one');
    });
    expect(seenInside).toEqual([]);
    expect(statements() - before).toBe(1);
    expect(direct).toEqual([]);
    expect(await actions('one')).toEqual(['auth.password.succeeded', 'auth.signed_in']);
    const [first] = await repos.audit.list({ target: 'one', action: 'auth.password.succeeded', limit: 1 });
    expect(first).toMatchObject({ tenantId, ip: '192.0.2.1', detail: { accounts: 1 } });
    expect(await lastLogin()).toBeInstanceOf(Date);
  });

  it('writes each request with its own values when requests of the same shape reuse one prepared statement', async () => {
    const signIn = (target: string, ip: string) =>
      writes.around(async () => {
        await writes.recordLogin(accountId);
        await writes.audit.record({ action: 'auth.signed_in', target, tenantId, ip, detail: { target } });
      });
    await signIn('shape-a', '192.0.2.10');
    const firstLogin = await lastLogin();
    await sleep(5);
    await signIn('shape-b', '192.0.2.11');
    const [a] = await repos.audit.list({ target: 'shape-a', limit: 1 });
    const [b] = await repos.audit.list({ target: 'shape-b', limit: 1 });
    expect(a).toMatchObject({ ip: '192.0.2.10', detail: { target: 'shape-a' } });
    expect(b).toMatchObject({ ip: '192.0.2.11', detail: { target: 'shape-b' } });
    expect((await lastLogin())?.getTime()).toBeGreaterThan(firstLogin?.getTime() ?? Infinity);
  });

  it("clears the account's second-factor failures in the same statement as its events and last login", async () => {
    const policy = { threshold: 5, lockSeconds: [60] };
    await repos.lockouts.reserveAttempt(accountId, policy, new Date());
    await repos.lockouts.reserveAttempt(accountId, policy, new Date());
    expect((await repos.lockouts.get(accountId))?.failures).toBe(2);
    const before = statements();
    let failuresInside: number | undefined;
    await writes.around(async () => {
      await writes.resetLockout(accountId);
      await writes.recordLogin(accountId);
      await writes.audit.record({ action: 'mfa.totp.verified', target: 'reset', tenantId, actorAccountId: accountId });
      failuresInside = (await repos.lockouts.get(accountId))?.failures;
    });
    expect(failuresInside).toBe(2);
    expect(statements() - before).toBe(1);
    expect(direct).toEqual([]);
    expect(await repos.lockouts.get(accountId)).toMatchObject({ failures: 0, lockCount: 0, lockedUntil: null });
    expect(await actions('reset')).toEqual(['mfa.totp.verified']);
  });

  it('writes them when the request fails too, and the failure still reaches the caller', async () => {
    const failure = writes.around(async () => {
      await writes.audit.record({ action: 'auth.password.succeeded', target: 'two' });
      throw new Error('after the password check');
    });
    await expect(failure).rejects.toThrow('after the password check');
    expect(await actions('two')).toEqual(['auth.password.succeeded']);
  });

  it('writes straight through outside a request and once a request has been written', async () => {
    await writes.audit.record({ action: 'keys.rotated', target: 'three' });
    await writes.resetLockout(accountId);
    let later: Promise<void> | undefined;
    await writes.around(async () => {
      // work deferred until after the answer runs in the request's context, after its writes
      later = new Promise<void>((resolve) => setImmediate(resolve)).then(() => writes.audit.record({ action: 'auth.rate_limited', target: 'three' }));
    });
    await later;
    expect(direct).toEqual(['keys.rotated', 'lockout reset', 'auth.rate_limited']);
    expect(await actions('three')).toEqual(['keys.rotated', 'auth.rate_limited']);
  });

  it('writes a bulk request in statements of a bounded size as it goes, and every event arrives', async () => {
    const count = 2 * MAX_EVENTS_PER_STATEMENT + 500; // an import of 10,000 users would exceed PostgreSQL's 65,535 parameters in one statement
    const before = statements();
    await writes.around(async () => {
      for (let i = 0; i < count; i++) await writes.audit.record({ action: 'account.imported', target: 'bulk', tenantId, detail: { row: i } });
      expect(statements() - before).toBe(2);
    });
    expect(statements() - before).toBe(3);
    expect(await repos.audit.list({ target: 'bulk', limit: 1 })).toHaveLength(1);
    const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_events where target = 'bulk'`);
    expect(row?.n).toBe(count);
  });

  it('sends no statement for a request without such writes', async () => {
    const before = statements();
    expect(await writes.around(async () => 42)).toBe(42);
    expect(statements()).toBe(before);
  });
});
