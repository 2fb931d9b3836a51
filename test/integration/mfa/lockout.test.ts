// Second-factor lockout (DESIGN.md §9): 5 consecutive wrong codes lock the MFA step for 15 min,
// doubling on each repeat up to 24 h; success resets; the count is exact across parallel requests
// (and instances: the row lives in the shared database).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import type { LockoutPolicy } from '../../../src/store/repositories/lockouts.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const policy: LockoutPolicy = { threshold: 5, baseSeconds: 15 * 60, maxSeconds: 24 * 3600 };
const seconds = (from: Date, to: Date | null) => (to ? Math.round((to.getTime() - from.getTime()) / 1000) : null);

describe(`MFA lockout on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let tenantId: string;
  let n = 0;
  const newAccount = async () => (await repos.accounts.create({ tenantId, email: `l${++n}@example.com`, passwordHash: 'h' })).id;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    tenantId = (await repos.tenants.create({ kind: 'distributor', name: 'D', parentId: platform.id })).id;
  });
  afterAll(() => database.dispose());

  it('locks exactly once when 20 wrong codes arrive in parallel, counting only the first 5', async () => {
    const accountId = await newAccount();
    const now = new Date();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => repos.lockouts.recordFailure(accountId, policy, now)));
    expect(outcomes.filter((o) => o.justLocked)).toHaveLength(1);
    const counted = outcomes.filter((o) => o.counted);
    expect(counted).toHaveLength(5);
    expect(counted.filter((o) => !o.justLocked).map((o) => o.failures).sort()).toEqual([1, 2, 3, 4]);
    expect(outcomes.filter((o) => !o.counted)).toHaveLength(15);
    for (const o of outcomes.filter((x) => !x.counted)) expect(o.lockedUntil?.getTime()).toBeGreaterThan(now.getTime());
    const state = await repos.lockouts.get(accountId);
    expect(state).toMatchObject({ failures: 0, lockCount: 1 });
    expect(seconds(now, state?.lockedUntil ?? null)).toBe(15 * 60);
  });

  it('does not count attempts while locked', async () => {
    const accountId = await newAccount();
    let now = new Date('2030-01-01T00:00:00Z');
    for (let i = 0; i < 5; i++) await repos.lockouts.recordFailure(accountId, policy, now);
    now = new Date(now.getTime() + 60_000); // one minute into the lock
    const during = await repos.lockouts.recordFailure(accountId, policy, now);
    expect(during).toMatchObject({ counted: false, justLocked: false, failures: 0 });
    expect(await repos.lockouts.get(accountId)).toMatchObject({ failures: 0, lockCount: 1 });
  });

  it('doubles the lock on each repeat and caps it at the maximum', async () => {
    const accountId = await newAccount();
    let now = new Date('2030-01-01T00:00:00Z');
    const durations: Array<number | null> = [];
    for (let lock = 0; lock < 9; lock++) {
      let last;
      for (let i = 0; i < 5; i++) last = await repos.lockouts.recordFailure(accountId, policy, now);
      expect(last?.justLocked).toBe(true);
      durations.push(seconds(now, last?.lockedUntil ?? null));
      now = new Date(last!.lockedUntil!.getTime() + 1000); // wait the lock out
    }
    const m = 60;
    expect(durations).toEqual([15 * m, 30 * m, 60 * m, 120 * m, 240 * m, 480 * m, 960 * m, 1440 * m, 1440 * m]);
  });

  it('starts over after a success', async () => {
    const accountId = await newAccount();
    const now = new Date('2030-01-01T00:00:00Z');
    for (let i = 0; i < 4; i++) await repos.lockouts.recordFailure(accountId, policy, now);
    await repos.lockouts.reset(accountId);
    expect(await repos.lockouts.get(accountId)).toMatchObject({ failures: 0, lockedUntil: null, lockCount: 0 });
    const next = await repos.lockouts.recordFailure(accountId, policy, now);
    expect(next).toMatchObject({ failures: 1, justLocked: false, counted: true, lockedUntil: null });
  });

  it('forgets earlier locks after a success: the next lock is the short one again', async () => {
    const accountId = await newAccount();
    let now = new Date('2030-01-01T00:00:00Z');
    for (let i = 0; i < 5; i++) await repos.lockouts.recordFailure(accountId, policy, now);
    now = new Date(now.getTime() + 3600_000);
    await repos.lockouts.reset(accountId);
    let last;
    for (let i = 0; i < 5; i++) last = await repos.lockouts.recordFailure(accountId, policy, now);
    expect(seconds(now, last?.lockedUntil ?? null)).toBe(15 * 60);
  });

  it('has no state for an account that never failed', async () => {
    expect(await repos.lockouts.get(await newAccount())).toBeUndefined();
  });
});
