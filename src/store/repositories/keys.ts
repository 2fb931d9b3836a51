// Signing keys (JWKS) and cookie-signing keys. Private material arrives sealed by the SecretBox.
import { and, asc, desc, eq, isNotNull, lte, or } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { cookieKeys, signingKeys } from '../schema.ts';
import { GatehouseError, conflict } from '../../domain/errors.ts';
import { isUniqueViolation } from './pg-errors.ts';

export type SigningKey = typeof signingKeys.$inferSelect;
export type SigningKeyState = SigningKey['state'];
export type CookieKey = typeof cookieKeys.$inferSelect;

export interface NewSigningKey {
  kid: string;
  alg: string;
  privateJwkEnc: string;
  state: SigningKeyState;
}

export interface SigningKeyRepo {
  /** Oldest first. */
  list(): Promise<SigningKey[]>;
  insert(key: NewSigningKey): Promise<SigningKey>;
  setState(kid: string, state: SigningKeyState, times?: { activatedAt?: Date | undefined; retireAfter?: Date | null | undefined }): Promise<boolean>;
  /** Deletes keys marked retired and retiring keys whose retire_after has passed; returns how many. */
  deleteRetired(now: Date): Promise<number>;
}

export interface CookieKeyRepo {
  /** Newest first: oidc-provider signs with the first key and accepts all (rotation = prepend). */
  list(): Promise<CookieKey[]>;
  insert(keyEnc: string): Promise<CookieKey>;
}

export function createSigningKeyRepo(db: Db): SigningKeyRepo {
  return {
    list: () => db.select().from(signingKeys).orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid)),

    async insert(key) {
      try {
        const [row] = await db
          .insert(signingKeys)
          .values({
            kid: key.kid,
            alg: key.alg,
            privateJwkEnc: key.privateJwkEnc,
            state: key.state,
            activatedAt: key.state === 'active' ? new Date() : null,
          })
          .returning();
        if (!row) throw new GatehouseError('key_not_created', 500, 'The signing key could not be stored.');
        return row;
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(`A signing key with kid ${key.kid} exists already.`, 'key_exists');
        throw e;
      }
    },

    async setState(kid, state, times = {}) {
      const set: Partial<Pick<SigningKey, 'state' | 'activatedAt' | 'retireAfter'>> = { state };
      if (times.activatedAt !== undefined) set.activatedAt = times.activatedAt;
      if (times.retireAfter !== undefined) set.retireAfter = times.retireAfter;
      const rows = await db.update(signingKeys).set(set).where(eq(signingKeys.kid, kid)).returning({ kid: signingKeys.kid });
      return rows.length > 0;
    },

    async deleteRetired(now) {
      const rows = await db
        .delete(signingKeys)
        .where(
          or(
            eq(signingKeys.state, 'retired'),
            and(eq(signingKeys.state, 'retiring'), isNotNull(signingKeys.retireAfter), lte(signingKeys.retireAfter, now)),
          ),
        )
        .returning({ kid: signingKeys.kid });
      return rows.length;
    },
  };
}

export function createCookieKeyRepo(db: Db): CookieKeyRepo {
  return {
    list: () => db.select().from(cookieKeys).orderBy(desc(cookieKeys.createdAt), desc(cookieKeys.id)),
    async insert(keyEnc) {
      const [row] = await db.insert(cookieKeys).values({ keyEnc }).returning();
      if (!row) throw new GatehouseError('key_not_created', 500, 'The cookie key could not be stored.');
      return row;
    },
  };
}
