// Second-factor lockout (DESIGN.md §9, §12.12): an attempt is reserved before its code is checked, so
// however many codes arrive at once (on however many instances: the row lives in the shared database)
// at most 5 are checked before the lock; the lock lasts 15 min, doubling on each repeat up to 24 h;
// success resets.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import type { LockoutPolicy, Reservation } from '../../../src/store/repositories/lockouts.ts';
import { lockSchedule } from '../../../src/domain/mfa/lockout.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const policy: LockoutPolicy = { threshold: 5, lockSeconds: lockSchedule({ baseSeconds: 15 * 60, maxSeconds: 24 * 3600 }) };
const seconds = (from: Date, to: Date | null) => (to ? Math.round((to.getTime() - from.getTime()) / 1000) : null);
const lockedBy = (r: Reservation) => (r.granted ? r.lockedUntil : null);

describe(`MFA lockout on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let tenantId: string;
  let n = 0;
  const newAccount = async () => (await repos.accounts.create({ tenantId, email: `l${++n}@example.com`, passwordHash: 'h' })).id;
  const fail5 = async (accountId: string, now: Date) => {
    let last: Reservation | undefined;
    for (let i = 0; i < 5; i++) last = await repos.lockouts.reserveAttempt(accountId, policy, now);
    return last;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    tenantId = (await repos.tenants.create({ kind: 'distributor', name: 'D', parentId: platform.id })).id;
  });
  afterAll(() => database.dispose());

  // On PGlite the statements run one after another; the outcome (5 granted, 1 lock) is what proves the
  // reservation is single-statement, whatever the interleaving.
  it('grants exactly 5 of 40 parallel attempts, numbered 1–5, and the 5th starts the one lock', async () => {
    const accountId = await newAccount();
    const now = new Date();
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => repos.lockouts.reserveAttempt(accountId, policy, now)));
    const granted = outcomes.filter((o) => o.granted);
    expect(granted.map((o) => o.attempt).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(granted.filter((o) => o.lockedUntil)).toHaveLength(1);
    expect(granted.find((o) => o.lockedUntil)?.attempt).toBe(5);
    const refused = outcomes.filter((o) => !o.granted);
    expect(refused).toHaveLength(35);
    for (const o of refused) expect(o.lockedUntil.getTime()).toBeGreaterThan(now.getTime());
    const state = await repos.lockouts.get(accountId);
    expect(state).toMatchObject({ failures: 0, lockCount: 1 });
    expect(seconds(now, state?.lockedUntil ?? null)).toBe(15 * 60);
  });

  it('does not count attempts while locked, and counts again from 1 once the lock is over', async () => {
    const accountId = await newAccount();
    let now = new Date('2030-01-01T00:00:00Z');
    const fifth = await fail5(accountId, now);
    now = new Date(now.getTime() + 60_000); // one minute into the lock
    const during = await repos.lockouts.reserveAttempt(accountId, policy, now);
    expect(during).toEqual({ granted: false, lockedUntil: lockedBy(fifth!) });
    expect(await repos.lockouts.get(accountId)).toMatchObject({ failures: 0, lockCount: 1 });
    now = new Date(now.getTime() + 15 * 60_000);
    expect(await repos.lockouts.reserveAttempt(accountId, policy, now)).toEqual({ granted: true, attempt: 1, lockedUntil: null });
  });

  it('doubles the lock on each repeat and caps it at the maximum (the lengths come from the domain schedule)', async () => {
    const accountId = await newAccount();
    let now = new Date('2030-01-01T00:00:00Z');
    const durations: Array<number | null> = [];
    for (let lock = 0; lock < 9; lock++) {
      const last = await fail5(accountId, now);
      durations.push(seconds(now, lockedBy(last!)));
      now = new Date(lockedBy(last!)!.getTime() + 1000); // wait the lock out
    }
    const m = 60;
    expect(durations).toEqual([15 * m, 30 * m, 60 * m, 120 * m, 240 * m, 480 * m, 960 * m, 1440 * m, 1440 * m]);
  });

  it('starts over after a success', async () => {
    const accountId = await newAccount();
    const now = new Date('2030-01-01T00:00:00Z');
    for (let i = 0; i < 4; i++) await repos.lockouts.reserveAttempt(accountId, policy, now);
    await repos.lockouts.reset(accountId);
    expect(await repos.lockouts.get(accountId)).toMatchObject({ failures: 0, lockedUntil: null, lockCount: 0 });
    expect(await repos.lockouts.reserveAttempt(accountId, policy, now)).toEqual({ granted: true, attempt: 1, lockedUntil: null });
  });

  it('lifts a lock on success (the fifth attempt was the right code) and forgets earlier locks', async () => {
    const accountId = await newAccount();
    let now = new Date('2030-01-01T00:00:00Z');
    expect(lockedBy((await fail5(accountId, now))!)).not.toBeNull();
    await repos.lockouts.reset(accountId);
    expect((await repos.lockouts.reserveAttempt(accountId, policy, now)).granted).toBe(true);
    now = new Date(now.getTime() + 3600_000);
    await repos.lockouts.reset(accountId);
    expect(seconds(now, lockedBy((await fail5(accountId, now))!))).toBe(15 * 60);
  });

  it('locks at once with a threshold of 1', async () => {
    const accountId = await newAccount();
    const now = new Date('2030-01-01T00:00:00Z');
    const first = await repos.lockouts.reserveAttempt(accountId, { ...policy, threshold: 1 }, now);
    expect(first).toMatchObject({ granted: true, attempt: 1 });
    expect(seconds(now, lockedBy(first))).toBe(15 * 60);
    expect((await repos.lockouts.reserveAttempt(accountId, { ...policy, threshold: 1 }, now)).granted).toBe(false);
  });

  it('has no state for an account that never failed', async () => {
    expect(await repos.lockouts.get(await newAccount())).toBeUndefined();
  });
});
