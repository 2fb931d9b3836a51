// Second-factor lockout (DESIGN.md §9, §12.12). An attempt is reserved before its code is checked:
// one INSERT … ON CONFLICT DO UPDATE per attempt counts it, and the attempt that reaches the threshold
// starts the lock in the same statement. So however many codes arrive at once, on however many
// instances, at most `threshold` of them are checked per lock period; the rest are refused unseen.
import { eq, sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { fixedStatement, timestampValue } from '../fixed-statement.ts';
import { mfaLockouts } from '../schema.ts';
import { isUuid } from './pg-errors.ts';

export interface LockoutPolicy {
  /** attempts in a row without a success that lock. */
  threshold: number;
  /**
   * How long the n-th lock lasts (index 0: the first); the last entry repeats. The domain's lock
   * schedule computes them, so the statement follows that one rule.
   */
  lockSeconds: readonly number[];
}

export type Reservation =
  /** The attempt may be checked. `attempt` counts it among the attempts since the last success or lock. */
  | { granted: true; attempt: number; lockedUntil: Date | null }
  /** Locked: the attempt is not checked. */
  | { granted: false; lockedUntil: Date };

export interface LockoutRow {
  failures: number;
  lockedUntil: Date | null;
  lockCount: number;
}

export interface LockoutRepo {
  /** Counts one attempt before it is checked; `lockedUntil` is set when this attempt started a lock. */
  reserveAttempt(accountId: string, policy: LockoutPolicy, now: Date): Promise<Reservation>;
  get(accountId: string): Promise<LockoutRow | undefined>;
  /** After a successful second factor, or an MFA reset: no failures, no lock, the doubling starts over. */
  reset(accountId: string): Promise<void>;
}

interface ReservedRow {
  failures: number;
  locked_until: Date | string | null;
}

const toDate = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/** After a successful second factor: the statement that clears an account's failures and lock. */
export const lockoutReset = (db: Db, accountId: string | Placeholder, at: Date | Placeholder) =>
  db.update(mfaLockouts).set({ failures: 0, lockCount: 0, lockedUntil: null, updatedAt: timestampValue(at) }).where(eq(mfaLockouts.accountId, accountId));

// The WHERE of DO UPDATE skips a row that is locked right now: nothing is reserved, nothing counted.
// A lock lasts durations[min(lock_count, last)] seconds.
const reserveStatement = () => {
  const at = sql`${sql.placeholder('at')}::timestamptz`;
  const threshold = sql`${sql.placeholder('threshold')}::int`;
  const durations = sql`${sql.placeholder('durations')}::float8[]`;
  const lockFor = (lockCount: SQL) => sql`${at} + make_interval(secs => (${durations})[least(${lockCount}, cardinality(${durations}) - 1) + 1])`;
  return sql`
    insert into ${mfaLockouts} as l (account_id, failures, locked_until, lock_count, updated_at)
    values (
      ${sql.placeholder('accountId')}::uuid,
      case when ${threshold} <= 1 then 0 else 1 end,
      case when ${threshold} <= 1 then ${lockFor(sql`0`)} else null end,
      case when ${threshold} <= 1 then 1 else 0 end,
      ${at})
    on conflict (account_id) do update set
      failures = case when l.failures + 1 >= ${threshold} then 0 else l.failures + 1 end,
      locked_until = case when l.failures + 1 >= ${threshold} then ${lockFor(sql`l.lock_count`)} else null end,
      lock_count = case when l.failures + 1 >= ${threshold} then l.lock_count + 1 else l.lock_count end,
      updated_at = ${at}
    where l.locked_until is null or l.locked_until <= ${at}
    returning failures, locked_until`;
};

export function createLockoutRepo(db: Db): LockoutRepo {
  const get = async (accountId: string): Promise<LockoutRow | undefined> => {
    if (!isUuid(accountId)) return undefined;
    const [row] = await db.select().from(mfaLockouts).where(eq(mfaLockouts.accountId, accountId));
    return row && { failures: row.failures, lockedUntil: row.lockedUntil, lockCount: row.lockCount };
  };
  const reserve = fixedStatement<ReservedRow>(db, 'gatehouse_reserve_mfa_attempt', reserveStatement);

  return {
    async reserveAttempt(accountId, policy, now) {
      const threshold = Math.max(1, Math.floor(policy.threshold));
      const durations = policy.lockSeconds.length > 0 ? [...policy.lockSeconds] : [1];
      const [row] = await reserve({ accountId, threshold, durations, at: now.toISOString() });
      if (row) {
        const lockedUntil = toDate(row.locked_until);
        return { granted: true, attempt: lockedUntil ? threshold : row.failures, lockedUntil };
      }
      const current = await get(accountId);
      // The row existed and was locked when the statement ran (a reset may have cleared it since).
      return { granted: false, lockedUntil: current?.lockedUntil ?? now };
    },

    get,

    async reset(accountId) {
      if (!isUuid(accountId)) return;
      await lockoutReset(db, accountId, new Date());
    },
  };
}
