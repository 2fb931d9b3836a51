// Second-factor lockout (DESIGN.md §9): N consecutive wrong codes lock the account's MFA step for
// base · 2^(locks so far), capped at max. One row per account in mfa_lockouts, shared by every
// instance; each failure is one INSERT … ON CONFLICT DO UPDATE, so parallel attempts count exactly.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { queryRows } from '../db.ts';
import { mfaLockouts } from '../schema.ts';
import { isUuid } from './pg-errors.ts';

export interface LockoutPolicy {
  /** wrong codes in a row that lock. */
  threshold: number;
  /** length of the first lock, in seconds. */
  baseSeconds: number;
  /** the longest lock, in seconds. */
  maxSeconds: number;
}

export interface FailureOutcome {
  /** wrong codes counted since the last success or lock (0 right after a lock). */
  failures: number;
  /** set while locked. */
  lockedUntil: Date | null;
  /** this failure started the lock. */
  justLocked: boolean;
  /** false when the account was locked already: an attempt during a lock is not counted. */
  counted: boolean;
}

export interface LockoutState {
  failures: number;
  lockedUntil: Date | null;
  lockCount: number;
}

export interface LockoutRepo {
  recordFailure(accountId: string, policy: LockoutPolicy, now: Date): Promise<FailureOutcome>;
  get(accountId: string): Promise<LockoutState | undefined>;
  /** After a successful second factor: no failures, no lock, and the doubling starts over. */
  reset(accountId: string): Promise<void>;
}

interface LockoutRow {
  failures: number;
  locked_until: Date | string | null;
  lock_count: number;
}

const toDate = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/** 2^30 · base seconds is far beyond any sensible max; the cap keeps power() finite. */
const MAX_EXPONENT = 30;

export function createLockoutRepo(db: Db): LockoutRepo {
  const get = async (accountId: string): Promise<LockoutState | undefined> => {
    if (!isUuid(accountId)) return undefined;
    const [row] = await db.select().from(mfaLockouts).where(eq(mfaLockouts.accountId, accountId));
    return row && { failures: row.failures, lockedUntil: row.lockedUntil, lockCount: row.lockCount };
  };

  return {
    async recordFailure(accountId, policy, now) {
      const threshold = Math.max(1, Math.floor(policy.threshold));
      const base = Math.max(1, policy.baseSeconds);
      const max = Math.max(base, policy.maxSeconds);
      const at = sql`${now.toISOString()}::timestamptz`;
      const firstLocks = threshold <= 1;
      // The WHERE of DO UPDATE skips a row that is locked right now: attempts during a lock are not counted.
      const [row] = await queryRows<LockoutRow>(
        db,
        sql`
        insert into ${mfaLockouts} as l (account_id, failures, locked_until, lock_count, updated_at)
        values (
          ${accountId}::uuid,
          ${firstLocks ? 0 : 1},
          ${firstLocks ? sql`${at} + make_interval(secs => ${base}::float8)` : sql`null`},
          ${firstLocks ? 1 : 0},
          ${at})
        on conflict (account_id) do update set
          failures = case when l.failures + 1 >= ${threshold}::int then 0 else l.failures + 1 end,
          lock_count = case when l.failures + 1 >= ${threshold}::int then l.lock_count + 1 else l.lock_count end,
          locked_until = case when l.failures + 1 >= ${threshold}::int
            then ${at} + make_interval(secs => least(${base}::float8 * power(2::float8, least(l.lock_count, ${MAX_EXPONENT})), ${max}::float8))
            else null end,
          updated_at = ${at}
        where l.locked_until is null or l.locked_until <= ${at}
        returning failures, locked_until, lock_count`,
      );
      if (row) {
        const lockedUntil = toDate(row.locked_until);
        return { failures: row.failures, lockedUntil, justLocked: lockedUntil !== null, counted: true };
      }
      const current = await get(accountId);
      return { failures: current?.failures ?? 0, lockedUntil: current?.lockedUntil ?? null, justLocked: false, counted: false };
    },

    get,

    async reset(accountId) {
      if (!isUuid(accountId)) return;
      await db
        .update(mfaLockouts)
        .set({ failures: 0, lockCount: 0, lockedUntil: null, updatedAt: new Date() })
        .where(eq(mfaLockouts.accountId, accountId));
    },
  };
}
