// Writes about an account's email address that self-service makes. Kept apart from the accounts
// repository so the rule lives in the statement: a verification counts only for the address it
// was sent to, and a change applies only to the address it was requested from — never to an address
// the account has changed to since.
import { and, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { accounts } from '../schema.ts';
import { isUniqueViolation, isUuid } from './pg-errors.ts';

/** `taken`: another account of the tenant has the new address; `stale`: the account no longer has `from`. */
export type EmailSwitch = 'changed' | 'taken' | 'stale';

export interface AccountEmailRepo {
  /** Marks the email verified when the account still has exactly that address; false otherwise. */
  markVerified(accountId: string, email: string): Promise<boolean>;
  /**
   * Replaces the address `from` by `to`, verified, in one conditional UPDATE, unless the password
   * changed after `requestedAt` (`stale`); the tenant's unique address index decides a race with
   * another account taking `to`.
   */
  switchEmail(accountId: string, from: string, to: string, requestedAt: Date): Promise<EmailSwitch>;
}

export function createAccountEmailRepo(db: Db): AccountEmailRepo {
  return {
    async markVerified(accountId, email) {
      if (!isUuid(accountId)) return false;
      const rows = await db
        .update(accounts)
        .set({ emailVerified: true, updatedAt: new Date() })
        .where(and(eq(accounts.id, accountId), sql`lower(${accounts.email}) = lower(${email.trim()})`))
        .returning({ id: accounts.id });
      return rows.length > 0;
    },

    async switchEmail(accountId, from, to, requestedAt) {
      if (!isUuid(accountId)) return 'stale';
      try {
        const rows = await db
          .update(accounts)
          .set({ email: to.trim(), emailVerified: true, updatedAt: new Date() })
          .where(
            and(
              eq(accounts.id, accountId),
              eq(accounts.status, 'active'),
              sql`lower(${accounts.email}) = lower(${from.trim()})`,
              or(isNull(accounts.passwordChangedAt), lte(accounts.passwordChangedAt, requestedAt)),
            ),
          )
          .returning({ id: accounts.id });
        return rows.length > 0 ? 'changed' : 'stale';
      } catch (e) {
        if (isUniqueViolation(e, 'accounts_tenant_email_key')) return 'taken';
        throw e;
      }
    },
  };
}
