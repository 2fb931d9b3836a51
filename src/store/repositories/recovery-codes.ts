// Recovery codes (DESIGN.md §4, §9): per account, stored as argon2id hashes, each consumed by a single
// conditional UPDATE … RETURNING (DESIGN.md §12.3): no row back means refused.
import { and, asc, count, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { accounts, mfaRecoveryCodes } from '../schema.ts';
import { isUuid } from './pg-errors.ts';

export interface RecoveryCodeHash {
  id: string;
  codeHash: string;
}

export interface RecoveryCodeRepo {
  /** Removes every old code and stores the new ones, in one atomic step. */
  replace(accountId: string, codeHashes: readonly string[]): Promise<void>;
  listUnused(accountId: string): Promise<RecoveryCodeHash[]>;
  /** true for the one caller that spends this code. */
  consume(id: string): Promise<boolean>;
  countUnused(accountId: string): Promise<number>;
  removeAllForAccount(accountId: string): Promise<number>;
}

export interface RecoveryCodeRepoOptions {
  /** see Database.transactional: false over the shared embedded database's socket. */
  transactional?: boolean | undefined;
}

export function createRecoveryCodeRepo(db: Db, options: RecoveryCodeRepoOptions = {}): RecoveryCodeRepo {
  return {
    async replace(accountId, codeHashes) {
      if (options.transactional) {
        // Locking the account row first serialises two regenerations for one account, so the
        // survivor's set is complete and the loser's is gone.
        await db.transaction(async (tx) => {
          await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('update');
          await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.accountId, accountId));
          if (codeHashes.length > 0) {
            await tx.insert(mfaRecoveryCodes).values(codeHashes.map((codeHash) => ({ accountId, codeHash })));
          }
        });
        return;
      }
      // One statement is atomic without a transaction: readers see either the old set or the new one.
      await db.execute(sql`
        with removed as (delete from ${mfaRecoveryCodes} where ${mfaRecoveryCodes.accountId} = ${accountId}::uuid)
        insert into ${mfaRecoveryCodes} (account_id, code_hash)
        select ${accountId}::uuid, h from unnest(${sql.param([...codeHashes])}::text[]) as h`);
    },

    async listUnused(accountId) {
      if (!isUuid(accountId)) return [];
      return db
        .select({ id: mfaRecoveryCodes.id, codeHash: mfaRecoveryCodes.codeHash })
        .from(mfaRecoveryCodes)
        .where(and(eq(mfaRecoveryCodes.accountId, accountId), isNull(mfaRecoveryCodes.usedAt)))
        .orderBy(asc(mfaRecoveryCodes.createdAt), asc(mfaRecoveryCodes.id));
    },

    async consume(id) {
      if (!isUuid(id)) return false;
      const rows = await db
        .update(mfaRecoveryCodes)
        .set({ usedAt: sql`now()` })
        .where(and(eq(mfaRecoveryCodes.id, id), isNull(mfaRecoveryCodes.usedAt)))
        .returning({ id: mfaRecoveryCodes.id });
      return rows.length > 0;
    },

    async countUnused(accountId) {
      if (!isUuid(accountId)) return 0;
      const [row] = await db
        .select({ n: count() })
        .from(mfaRecoveryCodes)
        .where(and(eq(mfaRecoveryCodes.accountId, accountId), isNull(mfaRecoveryCodes.usedAt)));
      return row?.n ?? 0;
    },

    async removeAllForAccount(accountId) {
      if (!isUuid(accountId)) return 0;
      const rows = await db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.accountId, accountId)).returning({ id: mfaRecoveryCodes.id });
      return rows.length;
    },
  };
}
