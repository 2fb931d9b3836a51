// Single-use email links (DESIGN.md §9): only the SHA-256 digest of the token is stored, and it is
// spent by one conditional UPDATE (§12.3). A link that has a newer sibling (same purpose, same owner:
// the account, or for links bound to an address, that address) is superseded: only the newest link
// an owner was sent can be used, even when two requests issued links at the same moment.
import { and, eq, gt, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { emailTokens } from '../schema.ts';
import { GatehouseError } from '../../domain/errors.ts';
import { isUuid } from './pg-errors.ts';

export type EmailToken = typeof emailTokens.$inferSelect;

export interface NewEmailToken {
  accountId: string | null;
  /** the address the link is mailed to (stored in lower case). */
  email?: string | undefined;
  purpose: string;
  tokenHash: string;
  expiresAt: Date;
  detail?: Record<string, unknown> | undefined;
}

export interface EmailTokenRepo {
  create(input: NewEmailToken): Promise<EmailToken>;
  /** The token, spent now; null when unknown, for another purpose, expired, superseded or spent already. */
  consume(tokenHash: string, purpose: string, now: Date): Promise<EmailToken | null>;
  /** The token when `consume` would take it now (unused, unexpired, not superseded); spends nothing. */
  findUsable(tokenHash: string, purpose: string, now: Date): Promise<EmailToken | undefined>;
  /**
   * Spends every unused link of `purpose` for one account (or, for links bound to an address, one
   * email), so only the link issued next works ("resend"). Returns how many were spent.
   */
  spendUnused(purpose: string, owner: { accountId: string } | { email: string }): Promise<number>;
  /** The token in any state (to tell "expired" from "already used" on a page). */
  find(tokenHash: string, purpose: string): Promise<EmailToken | undefined>;
  /** Deletes used and expired tokens; returns how many. */
  deleteSpent(now: Date): Promise<number>;
}

/**
 * True when the row in scope has a newer link of the same purpose and owner. Inside the subquery the
 * table is aliased `n`, so `email_tokens.…` names the outer row.
 */
const superseded = sql`exists (
  select 1 from ${emailTokens} n
  where n.purpose = ${emailTokens.purpose}
    and n.id <> ${emailTokens.id}
    and ((${emailTokens.accountId} is not null and n.account_id = ${emailTokens.accountId})
      or (${emailTokens.accountId} is null and ${emailTokens.email} is not null and n.account_id is null and n.email = ${emailTokens.email}))
    and (n.created_at, n.id) > (${emailTokens.createdAt}, ${emailTokens.id}))`;

export function createEmailTokenRepo(db: Db): EmailTokenRepo {
  return {
    async create(input) {
      const [row] = await db
        .insert(emailTokens)
        .values({
          accountId: input.accountId,
          email: input.email?.trim().toLowerCase() ?? null,
          purpose: input.purpose,
          tokenHash: input.tokenHash,
          expiresAt: input.expiresAt,
          detail: input.detail ?? {},
        })
        .returning();
      if (!row) throw new GatehouseError('token_not_created', 500, 'The link could not be created.');
      return row;
    },

    async consume(tokenHash, purpose, now) {
      const [row] = await db
        .update(emailTokens)
        .set({ usedAt: sql`now()` })
        .where(
          and(
            eq(emailTokens.tokenHash, tokenHash),
            eq(emailTokens.purpose, purpose),
            isNull(emailTokens.usedAt),
            gt(emailTokens.expiresAt, now),
            sql`not ${superseded}`,
          ),
        )
        .returning();
      return row ?? null;
    },

    async findUsable(tokenHash, purpose, now) {
      const [row] = await db
        .select()
        .from(emailTokens)
        .where(
          and(
            eq(emailTokens.tokenHash, tokenHash),
            eq(emailTokens.purpose, purpose),
            isNull(emailTokens.usedAt),
            gt(emailTokens.expiresAt, now),
            sql`not ${superseded}`,
          ),
        );
      return row;
    },

    async spendUnused(purpose, owner) {
      const whose =
        'accountId' in owner
          ? isUuid(owner.accountId)
            ? eq(emailTokens.accountId, owner.accountId)
            : undefined
          : and(isNull(emailTokens.accountId), eq(emailTokens.email, owner.email.trim().toLowerCase()));
      if (!whose) return 0;
      const rows = await db
        .update(emailTokens)
        .set({ usedAt: sql`now()` })
        .where(and(eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt), whose))
        .returning({ id: emailTokens.id });
      return rows.length;
    },

    async find(tokenHash, purpose) {
      const [row] = await db
        .select()
        .from(emailTokens)
        .where(and(eq(emailTokens.tokenHash, tokenHash), eq(emailTokens.purpose, purpose)));
      return row;
    },

    async deleteSpent(now) {
      const rows = await db
        .delete(emailTokens)
        .where(or(isNotNull(emailTokens.usedAt), lte(emailTokens.expiresAt, now)))
        .returning({ id: emailTokens.id });
      return rows.length;
    },
  };
}
