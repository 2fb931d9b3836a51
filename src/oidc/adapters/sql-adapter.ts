// oidc-provider storage in SQL (table oidc_payloads) when no Redis is configured: consume is one
// conditional UPDATE, so a code exchanged twice in parallel has one winner. The SQL itself lives in
// the oidc-payloads repository.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../../store/db.ts';
import { createOidcPayloadRepo, type StoredPayload } from '../../store/repositories/oidc-payloads.ts';

/** What both adapter factories return: the class for the provider's `adapter` option, plus a session index. */
export interface GatehouseAdapterClass {
  new (model: string): Adapter;
  /** Ids of an account's live sessions, so an admin can end them (`new Adapter('Session').destroy(id)`). */
  listSessionIdsForAccount(accountId: string): Promise<string[]>;
}

/** Models whose artifacts belong to a grant and go when it is revoked (as in oidc-provider's memory adapter). */
export const GRANT_BOUND_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const stringOrNull = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

/** The index columns of a payload: grant id for grant-bound models, account id for sessions. */
export function payloadIndexes(model: string, payload: AdapterPayload) {
  return {
    grantId: GRANT_BOUND_MODELS.has(model) ? stringOrNull(payload.grantId) : null,
    uid: stringOrNull(payload.uid),
    userCode: stringOrNull(payload.userCode),
    accountId: model === 'Session' ? stringOrNull(payload.accountId) : null,
  };
}

/**
 * Ids, uids and user codes come from requests (a code, a refresh token, a token to introspect or
 * revoke). One with a NUL byte names no stored artifact, and PostgreSQL refuses NUL in text (the
 * query would fail with 500). Token syntax allows only visible ASCII (RFC 6749 Appendix A), so such a
 * value is a malformed request: the lookup answers `invalid_request` (400) without asking the store.
 */
export function refuseUnstorable(id: string): void {
  if (typeof id !== 'string' || id.includes('\u0000')) {
    throw new errors.InvalidRequest('the token, code or identifier contains a NUL character, which none ever has');
  }
}
export const unstorable = (id: string): boolean => typeof id !== 'string' || id.includes('\u0000');

export const alreadyConsumed = () =>
  new errors.InvalidGrant('the authorization code, refresh token or request was used already');

const toPayload = (stored: StoredPayload | undefined): AdapterPayload | undefined => {
  if (!stored) return undefined;
  const payload = stored.payload as AdapterPayload;
  return stored.consumedAt ? { ...payload, consumed: Math.floor(stored.consumedAt.getTime() / 1000) } : payload;
};

export function createSqlAdapter(db: Db): GatehouseAdapterClass {
  const repo = createOidcPayloadRepo(db);

  return class SqlAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    static listSessionIdsForAccount(accountId: string): Promise<string[]> {
      return repo.listSessionIds(accountId);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      await repo.upsert(this.model, id, {
        payload: payload as Record<string, unknown>,
        ...payloadIndexes(this.model, payload),
        expiresIn: typeof expiresIn === 'number' ? expiresIn : undefined,
        consumed: Boolean(payload.consumed),
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(id);
      return toPayload(await repo.find(this.model, id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(uid);
      return toPayload(await repo.findByUid(this.model, uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(userCode);
      return toPayload(await repo.findByUserCode(this.model, userCode));
    }

    /** One winner: a second consume of the same artifact (parallel code exchange) fails with invalid_grant. */
    async consume(id: string): Promise<void> {
      if (unstorable(id) || !(await repo.consume(this.model, id))) throw alreadyConsumed();
    }

    async destroy(id: string): Promise<void> {
      if (unstorable(id)) return;
      await repo.destroy(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await repo.revokeByGrantId(grantId);
    }
  };
}
