// "Remember this browser" records (schema: remembered_browsers). A record is usable while it is not
// revoked and not expired; the lookup is by keyed token digest and account together, so a cookie
// copied to another account's sign-in finds nothing.
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { rememberedBrowsers } from '../schema.ts';
import { isUuid } from './pg-errors.ts';

export type RememberedBrowser = typeof rememberedBrowsers.$inferSelect;

export interface NewRememberedBrowser {
  accountId: string;
  tokenHash: string;
  userAgent: string | null;
  ip: string | null;
  lastCodeAt: Date;
  expiresAt: Date;
}

export interface RememberedBrowserRepo {
  create(input: NewRememberedBrowser): Promise<RememberedBrowser>;
  /** the usable record with this id, digest and account; undefined otherwise. */
  findUsable(id: string, accountId: string, tokenHash: string, now: Date): Promise<RememberedBrowser | undefined>;
  /** usable records of the account, newest first. */
  listUsable(accountId: string, now: Date): Promise<RememberedBrowser[]>;
  markUsed(id: string, now: Date): Promise<void>;
  /** a real code was typed in this browser again. */
  markCode(id: string, now: Date): Promise<void>;
  /** true when this call revoked it. */
  revoke(accountId: string, id: string, now: Date): Promise<boolean>;
  /** returns how many were revoked. */
  revokeAllForAccount(accountId: string, now: Date): Promise<number>;
}

export function createRememberedBrowserRepo(db: Db): RememberedBrowserRepo {
  const usable = (now: Date) => and(isNull(rememberedBrowsers.revokedAt), gt(rememberedBrowsers.expiresAt, now));
  return {
    async create(input) {
      const [row] = await db.insert(rememberedBrowsers).values(input).returning();
      if (!row) throw new Error('the remembered browser was not stored');
      return row;
    },

    async findUsable(id, accountId, tokenHash, now) {
      if (!isUuid(id) || !isUuid(accountId)) return undefined;
      const [row] = await db
        .select()
        .from(rememberedBrowsers)
        .where(and(eq(rememberedBrowsers.id, id), eq(rememberedBrowsers.accountId, accountId), eq(rememberedBrowsers.tokenHash, tokenHash), usable(now)));
      return row;
    },

    async listUsable(accountId, now) {
      if (!isUuid(accountId)) return [];
      return db.select().from(rememberedBrowsers).where(and(eq(rememberedBrowsers.accountId, accountId), usable(now))).orderBy(desc(rememberedBrowsers.createdAt));
    },

    async markUsed(id, now) {
      await db.update(rememberedBrowsers).set({ lastUsedAt: now }).where(eq(rememberedBrowsers.id, id));
    },

    async markCode(id, now) {
      await db.update(rememberedBrowsers).set({ lastCodeAt: now, lastUsedAt: now }).where(eq(rememberedBrowsers.id, id));
    },

    async revoke(accountId, id, now) {
      if (!isUuid(accountId) || !isUuid(id)) return false;
      const rows = await db
        .update(rememberedBrowsers)
        .set({ revokedAt: now })
        .where(and(eq(rememberedBrowsers.id, id), eq(rememberedBrowsers.accountId, accountId), usable(now)))
        .returning({ id: rememberedBrowsers.id });
      return rows.length > 0;
    },

    async revokeAllForAccount(accountId, now) {
      if (!isUuid(accountId)) return 0;
      const rows = await db
        .update(rememberedBrowsers)
        .set({ revokedAt: now })
        .where(and(eq(rememberedBrowsers.accountId, accountId), usable(now)))
        .returning({ id: rememberedBrowsers.id });
      return rows.length;
    },
  };
}
