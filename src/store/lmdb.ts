// The embedded default's store for oidc-provider's artifacts and the key-value counters (DATA_DIR/lmdb):
// LMDB, a memory-mapped B-tree. Embedded PGlite runs every statement on the main thread (about a
// millisecond each), which made each introspection cost several; an LMDB read is a lookup in mapped
// memory, and writes are batched into transactions committed off the main thread.
// - Durable: a resolved write is committed to the file, so sessions and refresh tokens survive a restart.
// - Multi-process safe: LMDB's lock file serialises writers across processes, so the CLI opens the
//   same directory while the server runs (readers never block).
// - Atomic: every read-modify-write (consume, take, increment, an upsert with its indexes) runs inside
//   one write transaction; of two processes racing, one commits first and the other sees its result.
// Relational data (accounts, clients, keys, audit) stays in PGlite.
import path from 'node:path';
import { open, type Database as LmdbDatabase, type RootDatabase } from 'lmdb';

/** Keys are arrays of strings (LMDB orders them element by element, so a prefix is a range). */
export type Key = string[];

export interface LmdbStore {
  /** `<model>\0<id>` → artifact; `u|c|g|s\0…` → indexes (see lmdb-adapter.ts). */
  oidc: LmdbDatabase<unknown, Key>;
  /** Kv values and counters. */
  kv: LmdbDatabase<unknown, Key>;
  /** Deletes what has expired; returns how many entries went. */
  sweep(nowMs: number): Promise<number>;
  close(): Promise<void>;
}

/** Entries of either database carry their expiry (epoch ms) in `e`; absent `e` never expires. */
export interface Expiring {
  e?: number;
}

export const isLive = (entry: unknown, nowMs: number): boolean =>
  typeof entry === 'object' && entry !== null && (typeof (entry as Expiring).e !== 'number' || ((entry as Expiring).e as number) > nowMs);

export const key = (...parts: string[]): Key => parts;
/** The range of keys that start with these parts and have more (`\uffff` sorts after every id). */
export const prefixRange = (...parts: string[]) => ({ start: parts, end: [...parts, '\uffff'] });

const opened = new Map<string, { root: RootDatabase; users: number; store: LmdbStore }>();

/** Opens (or shares, within one process) the store in `dataDir/lmdb`. */
export function openLmdbStore(dataDir: string): LmdbStore {
  const dir = path.join(dataDir, 'lmdb');
  const existing = opened.get(dir);
  if (existing) {
    existing.users++;
    return existing.store;
  }
  const root = open<unknown, Key>({ path: dir, compression: false });
  const oidc = root.openDB<unknown, Key>({ name: 'oidc' });
  const kv = root.openDB<unknown, Key>({ name: 'kv' });
  const entry = {
    root,
    users: 1,
    store: {
      oidc,
      kv,
      async sweep(nowMs: number) {
        let removed = 0;
        // Artifacts go with their indexes (lmdb-adapter.ts knows them); plain entries directly.
        for (const db of [oidc, kv]) {
          const expired: Key[] = [];
          for (const { key: k, value } of db.getRange({})) if (!isLive(value, nowMs)) expired.push(k);
          if (expired.length === 0) continue;
          await db.transaction(() => {
            for (const k of expired) {
              // written again meanwhile (by this process or another)? then it stays
              const current = db.get(k);
              if (current === undefined || isLive(current, nowMs)) continue;
              void db.remove(k);
              removed++;
            }
          });
        }
        return removed;
      },
      async close() {
        if (--entry.users > 0) return;
        opened.delete(dir);
        await root.close();
      },
    } satisfies LmdbStore,
  };
  opened.set(dir, entry);
  return entry.store;
}
