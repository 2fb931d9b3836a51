// TOTP authenticators and recovery codes (DESIGN.md §4, §9). Secrets arrive already sealed by the
// SecretBox; this repository never sees a plaintext secret. Every one-time thing is consumed by a
// single conditional UPDATE … RETURNING (DESIGN.md §12.3): no row back means refused.
import { and, asc, count, eq, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { accounts, mfaRecoveryCodes, mfaTotp } from '../schema.ts';
import { isUuid } from './pg-errors.ts';

export type TotpAuthenticator = typeof mfaTotp.$inferSelect;

export interface RecoveryCodeHash {
  id: string;
  codeHash: string;
}

export interface MfaRepo {
  /** The confirmed authenticator, or a pending enrolment that has not expired. */
  getTotp(accountId: string): Promise<TotpAuthenticator | undefined>;
  /** Starts (or restarts) an enrolment; false when the account already has a confirmed authenticator. */
  savePendingTotp(accountId: string, secretEnc: string, pendingExpiresAt: Date): Promise<boolean>;
  /** Confirms an unexpired pending enrolment with the step of the code that proved it (that step is then spent). */
  confirmPendingTotp(accountId: string, step: number, now: Date): Promise<boolean>;
  /** An authenticator brought from another platform: confirmed at once, replaces any existing one. */
  importConfirmedTotp(accountId: string, secretEnc: string): Promise<void>;
  /** The replay guard: true only for the first use of a step newer than every step used before. */
  consumeTotpStep(accountId: string, step: number): Promise<boolean>;
  deleteTotp(accountId: string): Promise<boolean>;
  /** Removes every old code and stores the new ones, in one atomic step. */
  replaceRecoveryCodes(accountId: string, codeHashes: readonly string[]): Promise<void>;
  listUnusedRecoveryCodes(accountId: string): Promise<RecoveryCodeHash[]>;
  /** true for the one caller that spends this code. */
  consumeRecoveryCode(id: string): Promise<boolean>;
  countUnusedRecoveryCodes(accountId: string): Promise<number>;
  /** Deletes pending enrolments that expired; returns how many. */
  purgeExpiredPending(now: Date): Promise<number>;
}

export interface MfaRepoOptions {
  /** see Database.transactional: false over the shared embedded database's socket. */
  transactional?: boolean | undefined;
}

export function createMfaRepo(db: Db, options: MfaRepoOptions = {}): MfaRepo {
  return {
    async getTotp(accountId) {
      if (!isUuid(accountId)) return undefined;
      const [row] = await db
        .select()
        .from(mfaTotp)
        .where(
          and(
            eq(mfaTotp.accountId, accountId),
            sql`(${mfaTotp.confirmedAt} is not null or ${mfaTotp.pendingExpiresAt} > now())`,
          ),
        );
      return row;
    },

    async savePendingTotp(accountId, secretEnc, pendingExpiresAt) {
      const rows = await db
        .insert(mfaTotp)
        .values({ accountId, secretEnc, pendingExpiresAt, confirmedAt: null, lastUsedStep: -1, source: 'enrolled' })
        .onConflictDoUpdate({
          target: mfaTotp.accountId,
          set: {
            secretEnc,
            pendingExpiresAt,
            lastUsedStep: -1,
            source: 'enrolled',
            createdAt: sql`now()`,
          },
          setWhere: isNull(mfaTotp.confirmedAt),
        })
        .returning({ accountId: mfaTotp.accountId });
      return rows.length > 0;
    },

    async confirmPendingTotp(accountId, step, now) {
      if (!isUuid(accountId)) return false;
      const rows = await db
        .update(mfaTotp)
        .set({ confirmedAt: now, lastUsedStep: step, pendingExpiresAt: null })
        .where(
          and(
            eq(mfaTotp.accountId, accountId),
            isNull(mfaTotp.confirmedAt),
            sql`${mfaTotp.pendingExpiresAt} > ${now.toISOString()}::timestamptz`,
            lt(mfaTotp.lastUsedStep, step),
          ),
        )
        .returning({ accountId: mfaTotp.accountId });
      return rows.length > 0;
    },

    async importConfirmedTotp(accountId, secretEnc) {
      const now = new Date();
      await db
        .insert(mfaTotp)
        .values({ accountId, secretEnc, confirmedAt: now, lastUsedStep: -1, source: 'imported', pendingExpiresAt: null })
        .onConflictDoUpdate({
          target: mfaTotp.accountId,
          set: { secretEnc, confirmedAt: now, lastUsedStep: -1, source: 'imported', pendingExpiresAt: null, createdAt: now },
        });
    },

    async consumeTotpStep(accountId, step) {
      if (!isUuid(accountId)) return false;
      const rows = await db
        .update(mfaTotp)
        .set({ lastUsedStep: step })
        .where(and(eq(mfaTotp.accountId, accountId), isNotNull(mfaTotp.confirmedAt), lt(mfaTotp.lastUsedStep, step)))
        .returning({ accountId: mfaTotp.accountId });
      return rows.length > 0;
    },

    async deleteTotp(accountId) {
      if (!isUuid(accountId)) return false;
      const rows = await db.delete(mfaTotp).where(eq(mfaTotp.accountId, accountId)).returning({ accountId: mfaTotp.accountId });
      return rows.length > 0;
    },

    async replaceRecoveryCodes(accountId, codeHashes) {
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

    async listUnusedRecoveryCodes(accountId) {
      if (!isUuid(accountId)) return [];
      return db
        .select({ id: mfaRecoveryCodes.id, codeHash: mfaRecoveryCodes.codeHash })
        .from(mfaRecoveryCodes)
        .where(and(eq(mfaRecoveryCodes.accountId, accountId), isNull(mfaRecoveryCodes.usedAt)))
        .orderBy(asc(mfaRecoveryCodes.createdAt), asc(mfaRecoveryCodes.id));
    },

    async consumeRecoveryCode(id) {
      if (!isUuid(id)) return false;
      const rows = await db
        .update(mfaRecoveryCodes)
        .set({ usedAt: sql`now()` })
        .where(and(eq(mfaRecoveryCodes.id, id), isNull(mfaRecoveryCodes.usedAt)))
        .returning({ id: mfaRecoveryCodes.id });
      return rows.length > 0;
    },

    async countUnusedRecoveryCodes(accountId) {
      if (!isUuid(accountId)) return 0;
      const [row] = await db
        .select({ n: count() })
        .from(mfaRecoveryCodes)
        .where(and(eq(mfaRecoveryCodes.accountId, accountId), isNull(mfaRecoveryCodes.usedAt)));
      return row?.n ?? 0;
    },

    async purgeExpiredPending(now) {
      const rows = await db
        .delete(mfaTotp)
        .where(and(isNull(mfaTotp.confirmedAt), lte(mfaTotp.pendingExpiresAt, now)))
        .returning({ accountId: mfaTotp.accountId });
      return rows.length;
    },
  };
}
