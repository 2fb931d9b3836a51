// The SQL side of Kv (src/store/kv.ts) when no Redis is configured: fixed-window counters and
// short-lived values. Each operation is one statement; an expired row is absent.
import { and, eq, gt, lte, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { queryRows } from '../db.ts';
import { counters, kvEntries } from '../schema.ts';

export interface KvStoreRepo {
  /** Counts one hit in the window that started with the first hit; returns the count so far. */
  increment(key: string, windowSeconds: number): Promise<number>;
  get(key: string): Promise<{ value: unknown } | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  /** Removes and returns an unexpired value in one statement: of concurrent callers, one gets it. */
  take(key: string): Promise<{ value: unknown } | undefined>;
  /** Removes the value and the counter of that key. */
  delete(key: string): Promise<void>;
  /** Deletes expired counters and values; returns how many. */
  deleteExpired(now: Date): Promise<number>;
}

/** Values are stored boxed, so a JSON string or number round-trips as itself. */
interface Boxed {
  v: unknown;
}

export function createKvStoreRepo(db: Db): KvStoreRepo {
  return {
    async increment(key, windowSeconds) {
      const window = sql`make_interval(secs => ${windowSeconds}::float8)`;
      const [row] = await queryRows<{ value: number | string }>(
        db,
        sql`
        insert into ${counters} as c (key, value, expires_at)
        values (${key}, 1, now() + ${window})
        on conflict (key) do update set
          value = case when c.expires_at <= now() then 1 else c.value + 1 end,
          expires_at = case when c.expires_at <= now() then excluded.expires_at else c.expires_at end
        returning value`,
      );
      return Number(row?.value ?? 0);
    },

    async get(key) {
      const [row] = await db
        .select({ value: kvEntries.value })
        .from(kvEntries)
        .where(and(eq(kvEntries.key, key), gt(kvEntries.expiresAt, sql`now()`)));
      return row && { value: (row.value as Boxed).v };
    },

    async set(key, value, ttlSeconds) {
      const expiresAt = sql`now() + make_interval(secs => ${ttlSeconds}::float8)`;
      const boxed: Boxed = { v: value };
      await db
        .insert(kvEntries)
        .values({ key, value: boxed, expiresAt })
        .onConflictDoUpdate({ target: kvEntries.key, set: { value: boxed, expiresAt } });
    },

    async take(key) {
      const [row] = await db
        .delete(kvEntries)
        .where(and(eq(kvEntries.key, key), gt(kvEntries.expiresAt, sql`now()`)))
        .returning({ value: kvEntries.value });
      return row && { value: (row.value as Boxed).v };
    },

    async delete(key) {
      await Promise.all([db.delete(kvEntries).where(eq(kvEntries.key, key)), db.delete(counters).where(eq(counters.key, key))]);
    },

    async deleteExpired(now) {
      const a = await db.delete(counters).where(lte(counters.expiresAt, now)).returning({ key: counters.key });
      const b = await db.delete(kvEntries).where(lte(kvEntries.expiresAt, now)).returning({ key: kvEntries.key });
      return a.length + b.length;
    },
  };
}
