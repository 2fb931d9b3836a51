// Writes of a bulk import (src/domain/import/users.ts): each row is one statement, so it is applied
// whole or not at all on every database mode (the shared embedded database's socket runs no
// multi-statement transactions): the account and its imported authenticator together.
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db.ts';
import { accounts, authenticators, mfaRecoveryCodes } from '../schema.ts';
import type { Role } from '../../domain/kinds.ts';
import { isUniqueViolation } from './pg-errors.ts';

export interface ImportedAccount {
  /** chosen by the caller: the TOTP secret is sealed with the account id as context before the insert. */
  id: string;
  tenantId: string;
  email: string;
  name: string | null;
  role: Role;
  passwordHash: string | null;
  importedPasswordDigest: string | null;
  /** a sealed TOTP secret: stored as a confirmed, imported authenticator. */
  totpSecretEnc: string | null;
  totpLabel: string;
}

export interface ImportedChanges {
  id: string;
  /** each field: undefined keeps what the account has. */
  name?: string | null | undefined;
  role?: Role | undefined;
  password?: { hash: string; digest: string } | undefined;
  /** replaces the account's authenticator apps and invalidates its recovery codes. */
  totp?: { secretEnc: string; label: string } | undefined;
}

export interface ImportRepo {
  /** false when the tenant already has an account with this email (created meanwhile). */
  create(input: ImportedAccount): Promise<boolean>;
  /** false when the account no longer exists. */
  update(changes: ImportedChanges): Promise<boolean>;
}

export function createImportRepo(db: Db): ImportRepo {
  return {
    async create(input) {
      try {
        const rows = await queryRows<{ id: string }>(
          db,
          sql`
          with account as (
            insert into ${accounts} (id, tenant_id, email, name, role, password_hash, imported_password_digest, email_verified, source, password_changed_at)
            values (${input.id}::uuid, ${input.tenantId}::uuid, ${input.email}, ${input.name}, ${input.role}, ${input.passwordHash}, ${input.importedPasswordDigest},
                    false, 'import', case when ${input.passwordHash}::text is null then null else now() end)
            returning id
          ), totp as (
            insert into ${authenticators} (account_id, kind, label, source, secret_enc, last_used_step)
            select id, 'totp', ${input.totpLabel}, 'imported', ${input.totpSecretEnc}::text, -1 from account where ${input.totpSecretEnc}::text is not null
          )
          select id from account`,
        );
        return rows.length > 0;
      } catch (e) {
        if (isUniqueViolation(e)) return false;
        throw e;
      }
    },

    async update(c) {
      const setName = c.name !== undefined;
      const secretEnc = c.totp?.secretEnc ?? null;
      const rows = await queryRows<{ id: string }>(
        db,
        sql`
        with account as (
          update ${accounts} set
            name = case when ${setName} then ${c.name ?? null}::text else name end,
            role = coalesce(${c.role ?? null}::text, role),
            password_hash = coalesce(${c.password?.hash ?? null}::text, password_hash),
            imported_password_digest = coalesce(${c.password?.digest ?? null}::text, imported_password_digest),
            password_changed_at = case when ${c.password?.hash ?? null}::text is null then password_changed_at else now() end,
            updated_at = now()
          where id = ${c.id}::uuid
          returning id
        ), removed as (
          delete from ${authenticators} where ${authenticators.accountId} = ${c.id}::uuid and ${authenticators.kind} = 'totp' and ${secretEnc}::text is not null
        ), codes as (
          delete from ${mfaRecoveryCodes} where ${mfaRecoveryCodes.accountId} = ${c.id}::uuid and ${secretEnc}::text is not null
        ), totp as (
          insert into ${authenticators} (account_id, kind, label, source, secret_enc, last_used_step)
          select id, 'totp', ${c.totp?.label ?? ''}, 'imported', ${secretEnc}::text, -1 from account where ${secretEnc}::text is not null
        )
        select id from account`,
      );
      return rows.length > 0;
    },
  };
}
