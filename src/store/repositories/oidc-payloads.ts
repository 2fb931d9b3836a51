// oidc-provider artifacts (sessions, interactions, grants, codes, tokens, …) when no Redis is
// configured (DESIGN.md §10). Expiry uses the database clock, so every instance agrees on it; an
// expired row is absent to every read even before the sweeper deletes it.
import { and, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { oidcPayloads } from '../schema.ts';

export interface StoredPayload {
  payload: Record<string, unknown>;
  consumedAt: Date | null;
}

export interface UpsertPayload {
  payload: Record<string, unknown>;
  grantId: string | null;
  userCode: string | null;
  uid: string | null;
  accountId: string | null;
  /** seconds from now; undefined = no expiry. */
  expiresIn: number | undefined;
  /** the payload says it was consumed already. */
  consumed: boolean;
}

export interface OidcPayloadRepo {
  upsert(model: string, id: string, input: UpsertPayload): Promise<void>;
  find(model: string, id: string): Promise<StoredPayload | undefined>;
  findByUid(model: string, uid: string): Promise<StoredPayload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<StoredPayload | undefined>;
  /** Marks the artifact consumed; false when it is absent, expired or consumed already (one winner). */
  consume(model: string, id: string): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  /** Deletes every artifact of the grant, whatever its model. */
  revokeByGrantId(grantId: string): Promise<number>;
  /** Ids of the account's live sessions. */
  listSessionIds(accountId: string): Promise<string[]>;
  deleteExpired(now: Date): Promise<number>;
  /** Up to `limit` live rows with their remaining lifetime (seconds; null = none), oldest first. */
  listLive(limit: number): Promise<{ model: string; id: string; stored: StoredPayload; expiresIn: number | null }[]>;
  /** Deletes these rows (after they were copied elsewhere). */
  deleteRows(rows: readonly { model: string; id: string }[]): Promise<void>;
}

const live = or(isNull(oidcPayloads.expiresAt), gt(oidcPayloads.expiresAt, sql`now()`));

export function createOidcPayloadRepo(db: Db): OidcPayloadRepo {
  const findWhere = async (...conditions: Parameters<typeof and>) => {
    const [row] = await db
      .select({ payload: oidcPayloads.payload, consumedAt: oidcPayloads.consumedAt })
      .from(oidcPayloads)
      .where(and(...conditions, live))
      .limit(1);
    return row;
  };

  return {
    async upsert(model, id, input) {
      const expiresAt =
        input.expiresIn === undefined ? sql`null` : sql`now() + make_interval(secs => ${input.expiresIn}::float8)`;
      // A consumed artifact stays consumed whatever is written over it.
      await db.execute(sql`
        insert into ${oidcPayloads} (model, id, payload, grant_id, user_code, uid, account_id, expires_at, consumed_at)
        values (${model}, ${id}, ${JSON.stringify(input.payload)}::jsonb, ${input.grantId}, ${input.userCode}, ${input.uid},
                ${input.accountId}, ${expiresAt}, ${input.consumed ? sql`now()` : sql`null`})
        on conflict (model, id) do update set
          payload = excluded.payload,
          grant_id = excluded.grant_id,
          user_code = excluded.user_code,
          uid = excluded.uid,
          account_id = excluded.account_id,
          expires_at = excluded.expires_at,
          consumed_at = coalesce(${oidcPayloads}.consumed_at, excluded.consumed_at)`);
    },

    find: (model, id) => findWhere(eq(oidcPayloads.model, model), eq(oidcPayloads.id, id)),
    findByUid: (model, uid) => findWhere(eq(oidcPayloads.model, model), eq(oidcPayloads.uid, uid)),
    findByUserCode: (model, userCode) => findWhere(eq(oidcPayloads.model, model), eq(oidcPayloads.userCode, userCode)),

    async consume(model, id) {
      const rows = await db
        .update(oidcPayloads)
        .set({ consumedAt: sql`now()` })
        .where(and(eq(oidcPayloads.model, model), eq(oidcPayloads.id, id), isNull(oidcPayloads.consumedAt), live))
        .returning({ id: oidcPayloads.id });
      return rows.length > 0;
    },

    async destroy(model, id) {
      await db.delete(oidcPayloads).where(and(eq(oidcPayloads.model, model), eq(oidcPayloads.id, id)));
    },

    async revokeByGrantId(grantId) {
      const rows = await db.delete(oidcPayloads).where(eq(oidcPayloads.grantId, grantId)).returning({ id: oidcPayloads.id });
      return rows.length;
    },

    async listSessionIds(accountId) {
      const rows = await db
        .select({ id: oidcPayloads.id })
        .from(oidcPayloads)
        .where(and(eq(oidcPayloads.model, 'Session'), eq(oidcPayloads.accountId, accountId), live));
      return rows.map((r) => r.id);
    },

    async listLive(limit) {
      const rows = await db
        .select({
          model: oidcPayloads.model,
          id: oidcPayloads.id,
          payload: oidcPayloads.payload,
          consumedAt: oidcPayloads.consumedAt,
          expiresIn: sql<number | string | null>`extract(epoch from ${oidcPayloads.expiresAt} - now())::float8`,
        })
        .from(oidcPayloads)
        .where(live)
        .limit(limit);
      return rows.map((r) => ({
        model: r.model,
        id: r.id,
        stored: { payload: r.payload as Record<string, unknown>, consumedAt: r.consumedAt },
        expiresIn: r.expiresIn === null ? null : Number(r.expiresIn),
      }));
    },

    async deleteRows(rows) {
      for (const r of rows) await db.delete(oidcPayloads).where(and(eq(oidcPayloads.model, r.model), eq(oidcPayloads.id, r.id)));
    },

    async deleteExpired(now) {
      const rows = await db
        .delete(oidcPayloads)
        .where(lte(oidcPayloads.expiresAt, now))
        .returning({ id: oidcPayloads.id });
      return rows.length;
    },
  };
}
