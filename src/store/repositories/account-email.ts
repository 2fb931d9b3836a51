// Writes about an account's email address that self-service makes. Kept apart from the accounts
// repository so the rule lives in the statement: a verification counts only for the address it
// was sent to, never for an address the account has changed to since.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { accounts } from '../schema.ts';
import { isUuid } from './pg-errors.ts';

export interface AccountEmailRepo {
  /** Marks the email verified when the account still has exactly that address; false otherwise. */
  markVerified(accountId: string, email: string): Promise<boolean>;
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
  };
}
