// oidc-provider storage in LMDB (the embedded default, src/store/lmdb.ts), with the behaviour of the
// SQL and Redis adapters: consume has one winner, a consumed artifact stays consumed whatever is
// written over it, artifacts are indexed by grant, uid, user code and (sessions) account.
// Keys in the `oidc` database (arrays of strings):
//   a <Model> <id>               { p: payload, c?: consumed at (epoch s), e?: expiry (epoch ms) }
//   u <Model> <uid>              { id, e? }     Session.findByUid
//   c <Model> <userCode>         { id, e? }     DeviceCode.findByUserCode
//   g <grantId> <Model> <id>     { e? }         revokeByGrantId
//   s <accountId> <id>           { e? }         listSessionIdsForAccount
// Every index entry expires with its artifact, so the sweeper deletes each entry on its own expiry.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db } from '../../store/db.ts';
import { createOidcPayloadRepo } from '../../store/repositories/oidc-payloads.ts';
import { isLive, key, prefixRange, type LmdbStore } from '../../store/lmdb.ts';
import { alreadyConsumed, payloadIndexes, refuseUnstorable, unstorable, type GatehouseAdapterClass } from './sql-adapter.ts';

interface Artifact {
  p: AdapterPayload;
  c?: number;
  e?: number;
}
interface Pointer {
  id: string;
  e?: number;
}

type Indexes = ReturnType<typeof payloadIndexes>;

export function createLmdbAdapter(store: LmdbStore): GatehouseAdapterClass {
  const db = store.oidc;
  const artifactKey = (model: string, id: string) => key('a', model, id);

  const live = <T>(value: unknown): T | undefined => (isLive(value, Date.now()) ? (value as T) : undefined);
  const read = (model: string, id: string): AdapterPayload | undefined => {
    const artifact = live<Artifact>(db.get(artifactKey(model, id)));
    if (!artifact) return undefined;
    return artifact.c !== undefined ? { ...artifact.p, consumed: artifact.c } : artifact.p;
  };

  /** Index keys of an artifact (inside a write transaction). */
  const indexKeys = (model: string, id: string, indexes: Indexes) => ({
    uid: indexes.uid ? key('u', model, indexes.uid) : undefined,
    userCode: indexes.userCode ? key('c', model, indexes.userCode) : undefined,
    grant: indexes.grantId ? key('g', indexes.grantId, model, id) : undefined,
    account: indexes.accountId ? key('s', indexes.accountId, id) : undefined,
  });

  /** Removes an artifact and the indexes that still name it (inside a write transaction). */
  const removeArtifact = (model: string, id: string) => {
    const k = artifactKey(model, id);
    const artifact = db.get(k) as Artifact | undefined;
    if (artifact === undefined) return;
    void db.remove(k);
    const keys = indexKeys(model, id, payloadIndexes(model, artifact.p));
    for (const pointer of [keys.uid, keys.userCode]) {
      if (pointer && (db.get(pointer) as Pointer | undefined)?.id === id) void db.remove(pointer);
    }
    if (keys.grant) void db.remove(keys.grant);
    if (keys.account) void db.remove(keys.account);
  };

  return class LmdbAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    static async listSessionIdsForAccount(accountId: string): Promise<string[]> {
      const ids: string[] = [];
      for (const { key: k, value } of db.getRange(prefixRange('s', accountId))) {
        const id = k[2];
        if (live(value) && id !== undefined && read('Session', id)?.accountId === accountId) ids.push(id);
      }
      return ids;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const model = this.model;
      const e = typeof expiresIn === 'number' ? Date.now() + Math.max(1, Math.ceil(expiresIn * 1000)) : undefined;
      const expiry = e === undefined ? {} : { e };
      await db.transaction(() => {
        const k = artifactKey(model, id);
        const previous = live<Artifact>(db.get(k));
        // a consumed artifact stays consumed whatever is written over it
        const consumed = previous?.c ?? (payload.consumed ? (typeof payload.consumed === 'number' ? payload.consumed : Math.floor(Date.now() / 1000)) : undefined);
        if (db.get(k) !== undefined) removeArtifact(model, id);
        void db.put(k, { p: payload, ...(consumed !== undefined ? { c: consumed } : {}), ...expiry } satisfies Artifact);
        const keys = indexKeys(model, id, payloadIndexes(model, payload));
        for (const pointer of [keys.uid, keys.userCode]) if (pointer) void db.put(pointer, { id, ...expiry } satisfies Pointer);
        for (const member of [keys.grant, keys.account]) if (member) void db.put(member, { ...expiry });
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(id);
      return read(this.model, id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(uid);
      const pointer = live<Pointer>(db.get(key('u', this.model, uid)));
      const payload = pointer && read(this.model, pointer.id);
      return payload?.uid === uid ? payload : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(userCode);
      const pointer = live<Pointer>(db.get(key('c', this.model, userCode)));
      const payload = pointer && read(this.model, pointer.id);
      return payload?.userCode === userCode ? payload : undefined;
    }

    /** One winner: a second consume of the same artifact (parallel code exchange) fails with invalid_grant. */
    async consume(id: string): Promise<void> {
      if (unstorable(id)) throw alreadyConsumed();
      const k = artifactKey(this.model, id);
      const won = await db.transaction(() => {
        const artifact = live<Artifact>(db.get(k));
        if (!artifact || artifact.c !== undefined) return false;
        void db.put(k, { ...artifact, c: Math.floor(Date.now() / 1000) });
        return true;
      });
      if (!won) throw alreadyConsumed();
    }

    async destroy(id: string): Promise<void> {
      if (unstorable(id)) return;
      const model = this.model;
      await db.transaction(() => removeArtifact(model, id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (unstorable(grantId)) return;
      await db.transaction(() => {
        const members = [...db.getKeys(prefixRange('g', grantId))];
        for (const member of members) {
          const [, , model, id] = member;
          if (model !== undefined && id !== undefined) removeArtifact(model, id);
          void db.remove(member);
        }
      });
    }
  };
}

/**
 * An embedded installation that ran before the LMDB store kept its sessions, grants and refresh
 * tokens in the SQL table oidc_payloads: the server moves the live ones over at start (copy, then
 * delete; a crash in between copies them again, which upsert makes harmless), so nobody is signed out
 * by the upgrade. Returns how many moved.
 */
export async function moveSqlArtifacts(db: Db, Adapter: GatehouseAdapterClass): Promise<number> {
  const repo = createOidcPayloadRepo(db);
  let moved = 0;
  for (;;) {
    const rows = await repo.listLive(500);
    if (rows.length === 0) return moved;
    for (const r of rows) {
      const payload = { ...(r.stored.payload as AdapterPayload), ...(r.stored.consumedAt ? { consumed: Math.floor(r.stored.consumedAt.getTime() / 1000) } : {}) };
      await new Adapter(r.model).upsert(r.id, payload, r.expiresIn === null ? undefined : Math.max(1, r.expiresIn));
    }
    await repo.deleteRows(rows);
    moved += rows.length;
  }
}
