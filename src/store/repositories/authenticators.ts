// Confirmed second factors, several per account (DESIGN.md §4). TOTP secrets arrive sealed by the
// SecretBox; this repository never sees a plaintext secret. One-time things are consumed by a single
// conditional UPDATE … RETURNING (DESIGN.md §12.3): no row back means refused.
import { and, asc, count, eq, lt, or, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db } from '../db.ts';
import { timestampValue } from '../fixed-statement.ts';
import { accounts, authenticators, mfaLockouts, mfaRecoveryCodes } from '../schema.ts';
import { isUuid } from './pg-errors.ts';

export type Authenticator = typeof authenticators.$inferSelect;

export interface NewTotpAuthenticator {
  accountId: string;
  label: string;
  secretEnc: string;
  /** the step of the code that confirmed it: that step is already spent. */
  lastUsedStep: number;
  source: 'enrolled' | 'imported';
}

export interface NewWebauthnAuthenticator {
  accountId: string;
  label: string;
  /** base64url, as the browser reports it. */
  credentialId: string;
  /** base64url of the COSE public key, as @simplewebauthn/server returns it. */
  publicKey: string;
  signCount: number;
  transports: string[];
  aaguid: string;
  userVerified: boolean;
  backedUp: boolean;
}

export interface AuthenticatorRepo {
  /** Oldest first. */
  listForAccount(accountId: string): Promise<Authenticator[]>;
  /** The account's authenticators (oldest first) and the end of its second-factor lock, read in one statement. */
  listWithLock(accountId: string): Promise<{ authenticators: Authenticator[]; lockedUntil: Date | null }>;
  countForAccount(accountId: string): Promise<number>;
  /**
   * Adds a TOTP authenticator. With `onlyIfNone` it is added only while the account has no authenticator
   * at all (forced setup at sign-in: a second browser must verify with the first one instead), and
   * concurrent calls for one account add at most one.
   */
  addTotp(input: NewTotpAuthenticator, options: { onlyIfNone: boolean }): Promise<Authenticator | undefined>;
  /**
   * An authenticator the user already has on another platform: replaces the account's TOTP authenticators
   * and invalidates its recovery codes (they belonged to the replaced set), in one atomic step.
   */
  replaceTotpWithImported(input: Omit<NewTotpAuthenticator, 'source' | 'lastUsedStep'>): Promise<Authenticator>;
  /** Adds a passkey or security key; `onlyIfNone` as for `addTotp`. Undefined also when the credential is already registered. */
  addWebauthn(input: NewWebauthnAuthenticator, options: { onlyIfNone: boolean }): Promise<Authenticator | undefined>;
  /** The WebAuthn authenticator with this credential id, whichever account it belongs to. */
  findByCredentialId(credentialId: string): Promise<Authenticator | undefined>;
  /**
   * Records a verified assertion: stores its signature counter only when it advanced (or both are 0, an
   * authenticator that does not count), atomically, so two assertions with one counter value cannot both pass.
   */
  recordWebauthnUse(id: string, use: { signCount: number; backedUp: boolean }, now: Date): Promise<boolean>;
  /** The replay guard: true only for the first use of a step newer than every step this authenticator accepted. */
  consumeTotpStep(id: string, step: number, now: Date): Promise<boolean>;
  rename(accountId: string, id: string, label: string): Promise<boolean>;
  remove(accountId: string, id: string): Promise<boolean>;
  /**
   * Removes one authenticator unless it is the account's last (an account whose policy enforces MFA
   * keeps one); two concurrent removals of the last two leave one.
   */
  removeUnlessLast(accountId: string, id: string): Promise<'removed' | 'last' | 'not_found'>;
  /** Every authenticator of the account; returns how many were removed. */
  removeAllForAccount(accountId: string): Promise<number>;
}

export interface AuthenticatorRepoOptions {
  /** see Database.transactional: false over the shared embedded database's socket. */
  transactional?: boolean | undefined;
}

export function createAuthenticatorRepo(db: Db, options: AuthenticatorRepoOptions = {}): AuthenticatorRepo {
  const ofAccount = db
    .select()
    .from(authenticators)
    .where(eq(authenticators.accountId, sql.placeholder('accountId')))
    .orderBy(asc(authenticators.createdAt), asc(authenticators.id))
    .prepare('gatehouse_authenticators_of_account');
  // prepared once: every page of a sign-in with MFA reads both
  const withLock = db
    .select({ lockedUntil: mfaLockouts.lockedUntil, authenticator: authenticators })
    .from(accounts)
    .leftJoin(mfaLockouts, eq(mfaLockouts.accountId, accounts.id))
    .leftJoin(authenticators, eq(authenticators.accountId, accounts.id))
    .where(eq(accounts.id, sql.placeholder('accountId')))
    .orderBy(asc(authenticators.createdAt), asc(authenticators.id))
    .prepare('gatehouse_authenticators_with_lock');
  // prepared once: every accepted code spends its step
  const consumeStep = db
    .update(authenticators)
    .set({ lastUsedStep: sql`${sql.placeholder('step')}::bigint`, lastUsedAt: timestampValue(sql.placeholder('now')) })
    .where(and(eq(authenticators.id, sql.placeholder('id')), eq(authenticators.kind, 'totp'), lt(authenticators.lastUsedStep, sql.placeholder('step'))))
    .returning({ id: authenticators.id })
    .prepare('gatehouse_consume_totp_step');
  const totpValues = (input: NewTotpAuthenticator) => ({
    accountId: input.accountId,
    kind: 'totp' as const,
    label: input.label,
    source: input.source,
    secretEnc: input.secretEnc,
    lastUsedStep: input.lastUsedStep,
  });

  /** Runs a raw statement that inserts at most one authenticator and returns its id; loads that row. */
  const insertedRow = async (statement: SQL): Promise<Authenticator | undefined> => {
    const [inserted] = await queryRows<{ id: string }>(db, statement);
    if (!inserted) return undefined;
    const [row] = await db.select().from(authenticators).where(eq(authenticators.id, inserted.id));
    return row;
  };

  return {
    async listForAccount(accountId) {
      if (!isUuid(accountId)) return [];
      return ofAccount.execute({ accountId });
    },

    async listWithLock(accountId) {
      if (!isUuid(accountId)) return { authenticators: [], lockedUntil: null };
      const rows = await withLock.execute({ accountId });
      return { authenticators: rows.flatMap((r) => (r.authenticator ? [r.authenticator] : [])), lockedUntil: rows[0]?.lockedUntil ?? null };
    },

    async countForAccount(accountId) {
      if (!isUuid(accountId)) return 0;
      const [row] = await db.select({ n: count() }).from(authenticators).where(eq(authenticators.accountId, accountId));
      return row?.n ?? 0;
    },

    async addTotp(input, { onlyIfNone }) {
      if (!onlyIfNone) {
        const [row] = await db.insert(authenticators).values(totpValues(input)).returning();
        return row;
      }
      if (!options.transactional) {
        // The shared embedded database runs one statement at a time, so the check and the insert of a
        // single statement cannot interleave with another caller's.
        return insertedRow(sql`
          insert into ${authenticators} (account_id, kind, label, source, secret_enc, last_used_step)
          select ${input.accountId}::uuid, 'totp', ${input.label}, ${input.source}, ${input.secretEnc}, ${input.lastUsedStep}::bigint
          where not exists (select 1 from ${authenticators} where ${authenticators.accountId} = ${input.accountId}::uuid)
          returning id`);
      }
      // On PostgreSQL, a statement's snapshot cannot see a concurrent insert, so "none yet" is checked
      // after taking the account row's lock: the second caller waits, then sees the first one's row.
      return db.transaction(async (tx) => {
        await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, input.accountId)).for('update');
        const [existing] = await tx.select({ n: count() }).from(authenticators).where(eq(authenticators.accountId, input.accountId));
        if ((existing?.n ?? 0) > 0) return undefined;
        const [row] = await tx.insert(authenticators).values(totpValues(input)).returning();
        return row;
      });
    },

    async addWebauthn(input, { onlyIfNone }) {
      // JSON in, array out: one parameter shape that PostgreSQL and PGlite read alike.
      const transports = sql`array(select jsonb_array_elements_text(${JSON.stringify(input.transports)}::jsonb))`;
      const values = sql`${input.accountId}::uuid, 'webauthn', ${input.label}, 'enrolled', ${input.credentialId}, ${input.publicKey}, ${input.signCount}::bigint,
          ${transports}, ${input.aaguid}, ${input.userVerified}, ${input.backedUp}`;
      const columns = sql.raw('account_id, kind, label, source, credential_id, public_key, sign_count, transports, aaguid, user_verified, backed_up');
      // A credential id registered before (this account or another) adds nothing: the unique index decides.
      const insert = (guard: SQL) => sql`
          insert into ${authenticators} (${columns})
          select ${values} ${guard}
          on conflict (credential_id) do nothing
          returning id`;
      const none = sql`where not exists (select 1 from ${authenticators} where ${authenticators.accountId} = ${input.accountId}::uuid)`;
      if (!onlyIfNone) return insertedRow(insert(sql``));
      if (!options.transactional) return insertedRow(insert(none));
      // As in addTotp: the account row's lock makes a concurrent first setup wait and then see this one.
      return db.transaction(async (tx) => {
        await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, input.accountId)).for('update');
        const [inserted] = await queryRows<{ id: string }>(tx, insert(none));
        if (!inserted) return undefined;
        const [row] = await tx.select().from(authenticators).where(eq(authenticators.id, inserted.id));
        return row;
      });
    },

    async findByCredentialId(credentialId) {
      const [row] = await db
        .select()
        .from(authenticators)
        .where(and(eq(authenticators.credentialId, credentialId), eq(authenticators.kind, 'webauthn')));
      return row;
    },

    async recordWebauthnUse(id, use, now) {
      if (!isUuid(id)) return false;
      const rows = await db
        .update(authenticators)
        .set({ signCount: use.signCount, backedUp: use.backedUp, lastUsedAt: now })
        .where(
          and(
            eq(authenticators.id, id),
            eq(authenticators.kind, 'webauthn'),
            or(lt(authenticators.signCount, use.signCount), and(eq(authenticators.signCount, 0), sql`${use.signCount}::bigint = 0`)),
          ),
        )
        .returning({ id: authenticators.id });
      return rows.length > 0;
    },

    async replaceTotpWithImported(input) {
      const row = await insertedRow(sql`
        with removed as (
          delete from ${authenticators} where ${authenticators.accountId} = ${input.accountId}::uuid and ${authenticators.kind} = 'totp'
        ), codes as (
          delete from ${mfaRecoveryCodes} where ${mfaRecoveryCodes.accountId} = ${input.accountId}::uuid
        )
        insert into ${authenticators} (account_id, kind, label, source, secret_enc, last_used_step)
        values (${input.accountId}::uuid, 'totp', ${input.label}, 'imported', ${input.secretEnc}, -1)
        returning id`);
      if (!row) throw new Error('the imported authenticator was not stored');
      return row;
    },

    async consumeTotpStep(id, step, now) {
      if (!isUuid(id)) return false;
      const rows = await consumeStep.execute({ id, step, now: now.toISOString() });
      return rows.length > 0;
    },

    async rename(accountId, id, label) {
      if (!isUuid(accountId) || !isUuid(id)) return false;
      const rows = await db
        .update(authenticators)
        .set({ label })
        .where(and(eq(authenticators.id, id), eq(authenticators.accountId, accountId)))
        .returning({ id: authenticators.id });
      return rows.length > 0;
    },

    async remove(accountId, id) {
      if (!isUuid(accountId) || !isUuid(id)) return false;
      const rows = await db
        .delete(authenticators)
        .where(and(eq(authenticators.id, id), eq(authenticators.accountId, accountId)))
        .returning({ id: authenticators.id });
      return rows.length > 0;
    },

    async removeUnlessLast(accountId, id) {
      if (!isUuid(accountId) || !isUuid(id)) return 'not_found';
      const attempt = async (q: Db) => {
        const rows = await queryRows<{ id: string }>(
          q,
          sql`delete from ${authenticators} where ${authenticators.id} = ${id}::uuid and ${authenticators.accountId} = ${accountId}::uuid
            and exists (select 1 from ${authenticators} other where other.account_id = ${accountId}::uuid and other.id <> ${id}::uuid)
            returning id`,
        );
        if (rows.length > 0) return 'removed' as const;
        const [mine] = await q.select({ id: authenticators.id }).from(authenticators).where(and(eq(authenticators.id, id), eq(authenticators.accountId, accountId)));
        return mine ? ('last' as const) : ('not_found' as const);
      };
      // The shared embedded database runs one statement at a time; on PostgreSQL the account row's lock
      // makes a concurrent removal wait, then see this one's result (as addTotp does).
      if (!options.transactional) return attempt(db);
      return db.transaction(async (tx) => {
        await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('update');
        return attempt(tx as unknown as Db);
      });
    },

    async removeAllForAccount(accountId) {
      if (!isUuid(accountId)) return 0;
      const rows = await db.delete(authenticators).where(eq(authenticators.accountId, accountId)).returning({ id: authenticators.id });
      return rows.length;
    },
  };
}
