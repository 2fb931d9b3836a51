// The first platform operator is created by spending the one-time setup link. Both happen in one SQL
// statement: the link is marked used and the account inserted from the same `WITH … UPDATE …
// RETURNING`, so either both happen or neither does. A statement is atomic on its own, which also
// holds over the shared embedded database's socket, where statements cannot be grouped in a
// transaction (Database.transactional is false there). A refused insert (an email taken) rolls the
// spending back; of two submissions racing for one link, the second finds it used and inserts nothing.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { queryRows } from '../db.ts';
import { accounts, emailTokens } from '../schema.ts';
import { conflict } from '../../domain/errors.ts';
import { isUniqueViolation } from './pg-errors.ts';

export interface OperatorSetup {
  tenantId: string;
  /** normalised already (trimmed, lower case). */
  email: string;
  name: string | null;
  passwordHash: string;
}

export interface OperatorSetupRepo {
  /**
   * Spends the link (`tokenHash` of `purpose`, unused, not expired, and no platform operator yet) and
   * creates the operator; undefined when the link could not be spent (and then nothing was created).
   */
  claim(tokenHash: string, purpose: string, now: Date, operator: OperatorSetup): Promise<typeof accounts.$inferSelect | undefined>;
}

export function createOperatorSetupRepo(db: Db): OperatorSetupRepo {
  return {
    async claim(tokenHash, purpose, now, operator) {
      let rows: { id: string }[];
      try {
        rows = await queryRows<{ id: string }>(
          db,
          sql`
          with spent as (
            update ${emailTokens} set used_at = now()
            where token_hash = ${tokenHash} and purpose = ${purpose} and used_at is null and expires_at > ${now}
              and not exists (select 1 from ${accounts} where platform_operator)
            returning id
          )
          insert into ${accounts} (tenant_id, email, name, role, password_hash, email_verified, platform_operator, source, password_changed_at)
          select ${operator.tenantId}::uuid, ${operator.email}, ${operator.name}, 'owner', ${operator.passwordHash}, false, true, 'local', now()
          from spent
          returning id`,
        );
      } catch (e) {
        if (isUniqueViolation(e, 'accounts_tenant_email_key')) throw conflict(`The platform tenant already has an account for ${operator.email}.`, 'account_exists');
        throw e;
      }
      const id = rows[0]?.id;
      if (!id) return undefined;
      const [row] = await db.select().from(accounts).where(eq(accounts.id, id));
      return row;
    },
  };
}
