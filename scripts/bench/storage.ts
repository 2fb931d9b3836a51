// Where the bench's servers keep their data, and what it does with it directly:
// - an isolated store per run: temporary PGlite directories, or scratch PostgreSQL databases created
//   next to DATABASE_URL, and a Redis logical database of the bench's own (BENCH_REDIS_DB);
// - seeding Gatehouse before it starts (tenant, client, thousands of accounts, imported authenticators);
// - the sessions of the memory figures: reading the stored Session artifacts, cloning them through
//   Gatehouse's own adapter, and measuring their size.
// Everything here talks to 127.0.0.1 only and is removed again by dispose().
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { sql } from 'drizzle-orm';
import type { AdapterPayload } from 'oidc-provider';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/http/logger.ts';
import { openRuntime } from '../../src/runtime.ts';
import { bootstrapOf } from '../../src/setup/routes.ts';
import { openDatabase, queryRows, type Database } from '../../src/store/db.ts';
import type { RedisClientType } from 'redis';
import { openRedis } from '../../src/store/redis.ts';
import { createSqlAdapter, type GatehouseAdapterClass } from '../../src/oidc/adapters/sql-adapter.ts';
import { createRedisAdapter } from '../../src/oidc/adapters/redis-adapter.ts';
import { createLmdbAdapter } from '../../src/oidc/adapters/lmdb-adapter.ts';
import { isLive, key as lmdbKey, openLmdbStore, prefixRange } from '../../src/store/lmdb.ts';
import type { Env } from './processes.ts';
import { newTotpSecret } from './totp.ts';

export const BARE_REDIS_PREFIX = 'ghbench-bare:';
/** Gatehouse's Redis keys: runtime prefix `gh:`, the adapter's `oidc:` namespace (src/oidc/adapters/index.ts). */
const GATEHOUSE_REDIS_PREFIX = 'gh:';
const GATEHOUSE_ADAPTER_PREFIX = `${GATEHOUSE_REDIS_PREFIX}oidc:`;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface StorageSetup {
  sqlKind: 'pglite' | 'postgres';
  oidcKind: 'sql' | 'redis' | 'lmdb';
  /** e.g. "embedded PGlite + SQL tables". */
  label: string;
  /** storage variables of the Gatehouse process (and of the seeding runtime). */
  gatehouseEnv: Env;
  /** storage variables of the bare provider on the same kind of storage. */
  bareEnv: Env;
  dispose(): Promise<void>;
}

/** All bench traffic comes from 127.0.0.1: the per-IP limits (100 per 15 min) would stop it at once. */
export const LIMITS_ENV: Env = { LOGIN_MAX_PER_IP: '100000000', MFA_MAX_PER_IP: '100000000' };

/** The hashing parameters: ARGON2_* when set, else `memoryKib` and `timeCost` with parallelism 1. */
export const argon2Env = (memoryKib: string, timeCost: string): Env => ({
  ARGON2_MEMORY_KIB: process.env.ARGON2_MEMORY_KIB ?? memoryKib,
  ARGON2_TIME_COST: process.env.ARGON2_TIME_COST ?? timeCost,
  ARGON2_PARALLELISM: process.env.ARGON2_PARALLELISM ?? '1',
});

/**
 * A measured Gatehouse's settings: production as an operator runs it (one worker), embedded as `npm
 * start` runs it (NODE_ENV unset); on 127.0.0.1 with the per-IP limits out of the way, on `storage`.
 */
export const gatehouseBenchEnv = (mode: 'production' | 'embedded', storage: StorageSetup, secretKey: string, argon2: Env): Env => ({
  ...(mode === 'production' ? { NODE_ENV: 'production', WORKERS: '1' } : {}),
  HOST: '127.0.0.1',
  GATEHOUSE_SECRET_KEY: secretKey,
  ...argon2,
  ...LIMITS_ENV,
  ...storage.gatehouseEnv,
});

/**
 * The bare provider's settings (scripts/bench/bare-provider.ts): its one static client, the same as
 * the seeded Gatehouse client, and the secret key its signing keys are derived from. The storage
 * (BARE_STORAGE and its connection) is each caller's.
 */
export const bareBenchEnv = (secretKey: string, client: { clientId: string; clientSecret: string }, redirectUri: string): Env => ({
  NODE_ENV: 'production',
  GATEHOUSE_SECRET_KEY: secretKey,
  BENCH_CLIENT_ID: client.clientId,
  BENCH_CLIENT_SECRET: client.clientSecret,
  BENCH_REDIRECT_URI: redirectUri,
});

function assertLoopback(name: string, value: string): URL {
  const url = new URL(value);
  if (!LOOPBACK.has(url.hostname)) {
    throw new Error(`${name} points at ${url.hostname}: the bench only talks to 127.0.0.1; run it against a local server`);
  }
  return url;
}

/** SCAN of one pattern (node-redis version agnostic). */
async function scanKeys(redis: RedisClientType, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000']);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

async function deleteKeys(redis: RedisClientType, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 500) await redis.sendCommand(['UNLINK', ...keys.slice(i, i + 500)]);
}

const OWNER_FILE = 'bench-owner.json';

interface Owner {
  pid: number;
  databases: string[];
  databaseUrl?: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function dropDatabase(databaseUrl: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/** What an earlier bench left behind when it was killed outright (SIGKILL): its temp folder and scratch databases. */
async function removeLeftovers(): Promise<void> {
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (!entry.startsWith('gatehouse-bench-')) continue;
    const dir = path.join(os.tmpdir(), entry);
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as Owner;
    } catch {
      continue; // not ours, or still being set up
    }
    if (alive(owner.pid)) continue;
    if (owner.databaseUrl) for (const name of owner.databases) await dropDatabase(owner.databaseUrl, name).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function prepareStorage(source: NodeJS.ProcessEnv = process.env): Promise<StorageSetup> {
  await removeLeftovers();
  const undo: (() => Promise<void>)[] = [];
  const dispose = async () => {
    for (const step of undo.reverse()) await step().catch((e: unknown) => process.stderr.write(`cleanup: ${String(e)}\n`));
    undo.length = 0;
  };
  try {
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
    undo.push(async () => fs.rmSync(temp, { recursive: true, force: true }));
    const owner: Owner = { pid: process.pid, databases: [] };
    const writeOwner = () => fs.writeFileSync(path.join(temp, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
    writeOwner();
    const gatehouseEnv: Env = { DATA_DIR: path.join(temp, 'gatehouse') };
    const bareEnv: Env = { BARE_STORAGE: 'sql', DATA_DIR: path.join(temp, 'bare') };

    const databaseUrl = source.DATABASE_URL || undefined;
    if (databaseUrl) {
      const base = assertLoopback('DATABASE_URL', databaseUrl);
      const stem = `gh_bench_${randomBytes(5).toString('hex')}`;
      owner.databaseUrl = databaseUrl;
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      try {
        for (const name of [stem, `${stem}_bare`]) {
          owner.databases.push(name);
          writeOwner();
          await admin.query(`CREATE DATABASE ${name}`);
          undo.push(() => dropDatabase(databaseUrl, name));
        }
      } finally {
        await admin.end();
      }
      const urlFor = (name: string) => {
        const u = new URL(base.href);
        u.pathname = `/${name}`;
        return u.href;
      };
      gatehouseEnv.DATABASE_URL = urlFor(stem);
      bareEnv.DATABASE_URL = urlFor(`${stem}_bare`);
    }

    const redisSource = source.REDIS_URL || undefined;
    if (redisSource) {
      const url = assertLoopback('REDIS_URL', redisSource);
      const db = Number(source.BENCH_REDIS_DB ?? 13);
      if (!Number.isInteger(db) || db < 0) throw new Error('BENCH_REDIS_DB must be a Redis database number');
      url.pathname = `/${db}`;
      const redis = await openRedis(url.href);
      try {
        const foreign = (await scanKeys(redis, '*')).filter((k) => !k.startsWith(GATEHOUSE_REDIS_PREFIX) && !k.startsWith(BARE_REDIS_PREFIX));
        if (foreign.length > 0) {
          throw new Error(`Redis database ${db} holds keys the bench did not write (e.g. ${foreign[0]}); set BENCH_REDIS_DB to an empty database`);
        }
        // leftovers of an earlier bench run that was killed before its cleanup
        await deleteKeys(redis, await scanKeys(redis, '*'));
      } finally {
        await redis.quit();
      }
      undo.push(async () => {
        const r = await openRedis(url.href);
        try {
          await deleteKeys(r, [...(await scanKeys(r, `${GATEHOUSE_REDIS_PREFIX}*`)), ...(await scanKeys(r, `${BARE_REDIS_PREFIX}*`))]);
        } finally {
          await r.quit();
        }
      });
      gatehouseEnv.REDIS_URL = url.href;
      Object.assign(bareEnv, { BARE_STORAGE: 'redis', REDIS_URL: url.href, BARE_REDIS_PREFIX: BARE_REDIS_PREFIX });
      delete bareEnv.DATA_DIR;
      delete bareEnv.DATABASE_URL;
    }

    const sqlKind = databaseUrl ? 'postgres' : 'pglite';
    // as Gatehouse decides (src/runtime.ts): Redis when set; LMDB on the embedded default; else SQL tables
    const oidcKind = redisSource ? 'redis' : databaseUrl ? 'sql' : 'lmdb';
    if (oidcKind === 'lmdb') bareEnv.BARE_STORAGE = 'lmdb';
    const label = `${sqlKind === 'postgres' ? 'PostgreSQL' : 'embedded PGlite'} + ${{ redis: 'Redis', sql: 'SQL tables', lmdb: 'LMDB' }[oidcKind]}`;
    return { sqlKind, oidcKind, label, gatehouseEnv, bareEnv, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}

export interface SeededAccount {
  email: string;
  /** the TOTP key (MFA accounts only). */
  totpKey?: Buffer;
}

export interface Seeded {
  clientId: string;
  clientSecret: string;
  password: string;
  passwordAccounts: SeededAccount[];
  mfaAccounts: SeededAccount[];
  seconds: number;
}

/** Runs `fn` over `items` with at most `width` calls in flight. */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await fn(items[index] as T, index);
      }
    }),
  );
}

/**
 * Seeds Gatehouse's database BEFORE the server starts (the embedded database has one owner at a
 * time): the platform tenant, a distributor tenant, a first-party client with the three grants, and
 * accounts that all share one password hashed ONCE with Gatehouse's own hasher; the MFA accounts get an
 * imported (confirmed) authenticator each through the MFA service.
 */
export async function seedGatehouse(env: Env, redirectUri: string, counts: { password: number; mfa: number }): Promise<Seeded> {
  const started = performance.now();
  const config = loadConfig(env as NodeJS.ProcessEnv);
  const logger = createLogger({ logLevel: 'warn' }, pino.destination(2));
  const runtime = await openRuntime(config, logger, { role: 'client', notifier: { notify: async () => undefined } });
  try {
    await bootstrapOf(runtime).platform();
    const tenant = await runtime.directory.createTenant({ kind: 'distributor', name: `Bench ${randomBytes(3).toString('hex')}` });
    const client = await runtime.clients.register({
      name: 'Bench app',
      redirectUris: [redirectUri],
      grants: ['authorization_code', 'refresh_token', 'client_credentials'],
      firstParty: true,
    });
    if (!client.client_secret) throw new Error('the bench client has no secret');
    const password = `bench ${randomBytes(9).toString('base64url')}`;
    const passwordHash = await runtime.hasher.hash(password);
    const create = (email: string) =>
      runtime.repos.accounts.create({ tenantId: tenant.id, email, name: 'Bench User', passwordHash, emailVerified: true });

    const passwordAccounts: SeededAccount[] = Array.from({ length: counts.password }, (_, i) => ({ email: `pwd-${i}@bench.example` }));
    const mfaAccounts: SeededAccount[] = Array.from({ length: counts.mfa }, (_, i) => ({ email: `mfa-${i}@bench.example` }));
    const width = config.databaseUrl ? 8 : 1;
    await inParallel(passwordAccounts, width, async (a) => {
      await create(a.email);
    });
    await inParallel(mfaAccounts, width, async (a) => {
      const account = await create(a.email);
      const secret = newTotpSecret();
      a.totpKey = secret.key;
      await runtime.mfa.importTotp({ id: account.id, email: account.email, name: account.name, tenantId: tenant.id, tenantName: tenant.name }, secret.base32, {});
    });
    return {
      clientId: client.client_id,
      clientSecret: client.client_secret,
      password,
      passwordAccounts,
      mfaAccounts,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await runtime.close();
  }
}

interface StoredSession {
  id: string;
  payload: AdapterPayload;
  /** seconds left */
  ttl: number;
}

export interface SessionSizes {
  sessions: number;
  /** the figure held against the target: what one Session costs in its own row / keys. */
  bytesPerSession: number;
  /** how that figure is made up. */
  detail: Record<string, number>;
  method: string;
}

export interface SessionStore {
  list(): Promise<StoredSession[]>;
  adapter: GatehouseAdapterClass;
  sizes(): Promise<SessionSizes>;
  /** bytes the whole oidc store takes (SQL: oidc_payloads with indexes and TOAST; Redis: used_memory). */
  footprint(): Promise<number>;
  close(): Promise<void>;
}

/** Gatehouse's running store, reached the way the CLI reaches it (over the socket for embedded PGlite). */
export async function openSessionStore(setup: StorageSetup): Promise<SessionStore> {
  const env = setup.gatehouseEnv;
  if (setup.oidcKind === 'redis') {
    const redis = await openRedis(env.REDIS_URL as string);
    const base = `${GATEHOUSE_ADAPTER_PREFIX}oidc:`;
    const sessionKeys = () => scanKeys(redis, `${base}Session:*`);
    const memoryUsage = async (key: string) => Number((await redis.sendCommand<number | null>(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])) ?? 0);
    return {
      adapter: createRedisAdapter(redis, GATEHOUSE_ADAPTER_PREFIX),
      async list() {
        const out: StoredSession[] = [];
        for (const key of await sessionKeys()) {
          const [raw, pttl] = await Promise.all([redis.hGet(key, 'p'), redis.pTTL(key)]);
          if (typeof raw === 'string' && pttl > 0) out.push({ id: key.slice(`${base}Session:`.length), payload: JSON.parse(raw) as AdapterPayload, ttl: pttl / 1000 });
        }
        return out;
      },
      async sizes() {
        const keys = await sessionKeys();
        let hashes = 0;
        let pointers = 0;
        const accountSets = new Set<string>();
        for (const key of keys) {
          hashes += await memoryUsage(key);
          const raw = await redis.hGet(key, 'p');
          const payload = typeof raw === 'string' ? (JSON.parse(raw) as AdapterPayload) : undefined;
          if (typeof payload?.uid === 'string') pointers += await memoryUsage(`${base}uid:Session:${payload.uid}`);
          if (typeof payload?.accountId === 'string') accountSets.add(`${base}account:${payload.accountId}`);
        }
        let sets = 0;
        for (const key of accountSets) sets += await memoryUsage(key);
        const n = Math.max(1, keys.length);
        const detail = { session_hash: hashes / n, uid_index_key: pointers / n, account_index_share: sets / n };
        return {
          sessions: keys.length,
          bytesPerSession: detail.session_hash + detail.uid_index_key + detail.account_index_share,
          detail,
          method: 'Redis MEMORY USAGE (SAMPLES 0) of each Session hash + its uid index key + its share of the per-account session sets',
        };
      },
      async footprint() {
        const info = await redis.sendCommand<string>(['INFO', 'memory']);
        return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
      },
      async close() {
        await redis.quit();
      },
    };
  }

  if (setup.oidcKind === 'lmdb') {
    // the running server's store, opened beside it (LMDB is multi-process safe)
    const store = openLmdbStore(env.DATA_DIR as string);
    const sessionKeys = () => [...store.oidc.getRange(prefixRange('a', 'Session'))].filter((e) => isLive(e.value, Date.now())).map((e) => e.key);
    const bytes = (k: string[]) => (store.oidc.getBinary(k)?.length ?? 0) + Buffer.byteLength(k.join('\u0000')) + 3;
    return {
      adapter: createLmdbAdapter(store),
      async list() {
        return sessionKeys().flatMap((k) => {
          const value = store.oidc.get(k) as { p: AdapterPayload; e?: number };
          const id = k[2];
          return id ? [{ id, payload: value.p, ttl: value.e ? (value.e - Date.now()) / 1000 : Number.NaN }] : [];
        });
      },
      async sizes() {
        const keys = sessionKeys();
        let records = 0;
        let indexes = 0;
        for (const k of keys) {
          records += bytes(k);
          const payload = (store.oidc.get(k) as { p: AdapterPayload }).p;
          if (typeof payload.uid === 'string') indexes += bytes(lmdbKey('u', 'Session', payload.uid));
          if (typeof payload.accountId === 'string') indexes += bytes(lmdbKey('s', payload.accountId, k[2] as string));
        }
        const n = Math.max(1, keys.length);
        // each LMDB leaf node carries an 8-byte header and a 2-byte pointer besides its key and value
        const detail = { record_key_and_value: records / n, uid_and_account_index_entries: indexes / n, node_overhead: 30 };
        return {
          sessions: keys.length,
          bytesPerSession: detail.record_key_and_value + detail.uid_and_account_index_entries + detail.node_overhead,
          detail,
          method: 'LMDB: encoded key + value bytes of each Session record, of its uid and account index entries, plus 10 bytes of node header and pointer for each of the three',
        };
      },
      async footprint() {
        const stat = store.oidc.getStats() as { pageSize?: number; treeBranchPageCount?: number; treeLeafPageCount?: number; overflowPages?: number };
        return (stat.pageSize ?? 4096) * ((stat.treeBranchPageCount ?? 0) + (stat.treeLeafPageCount ?? 0) + (stat.overflowPages ?? 0));
      },
      close: () => store.close(),
    };
  }

  const database: Database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR as string, role: 'client' });
  const live = sql`model = 'Session' and (expires_at is null or expires_at > now())`;
  return {
    adapter: createSqlAdapter(database.db),
    async list() {
      const rows = await queryRows<{ id: string; payload: AdapterPayload; ttl: number | string }>(
        database.db,
        sql`select id, payload, extract(epoch from expires_at - now())::float8 as ttl from oidc_payloads where ${live}`,
      );
      return rows.map((r) => ({ id: r.id, payload: r.payload, ttl: Number(r.ttl) }));
    },
    async sizes() {
      const [row] = await queryRows<{ n: number | string; payload: number | string; tuple: number | string }>(
        database.db,
        sql`select count(*) as n, avg(pg_column_size(t.payload))::float8 as payload, avg(pg_column_size(t.*))::float8 as tuple
            from oidc_payloads t where ${live}`,
      );
      const n = Number(row?.n ?? 0);
      // pg_column_size(t.*) is the whole row as stored (tuple header + every column, payload as stored:
      // compressed/TOASTed when large); each heap row also costs a 4-byte line pointer in its page.
      const detail = { payload_jsonb: Number(row?.payload ?? 0), row_tuple: Number(row?.tuple ?? 0), line_pointer: 4 };
      return {
        sessions: n,
        bytesPerSession: detail.row_tuple + detail.line_pointer,
        detail,
        method: 'PostgreSQL pg_column_size(row) of each oidc_payloads row of model Session (payload jsonb + index columns + tuple header) + 4-byte line pointer',
      };
    },
    async footprint() {
      const [row] = await queryRows<{ bytes: number | string }>(database.db, sql`select pg_total_relation_size('oidc_payloads')::bigint as bytes`);
      return Number(row?.bytes ?? Number.NaN);
    },
    close: () => database.close(),
  };
}

const freshId = (like: unknown) => randomBytes(32).toString('base64url').slice(0, typeof like === 'string' && like.length > 0 ? Math.min(like.length, 43) : 43);

/** A copy of a stored Session under a new id (jti), uid and per-client sid, same account, grants and expiry. */
export function cloneSession(payload: AdapterPayload): { id: string; payload: AdapterPayload } {
  const id = freshId(payload.jti);
  const authorizations = payload.authorizations as Record<string, Record<string, unknown>> | undefined;
  const copy: AdapterPayload = {
    ...payload,
    jti: id,
    uid: freshId(payload.uid),
    ...(authorizations
      ? { authorizations: Object.fromEntries(Object.entries(authorizations).map(([client, a]) => [client, { ...a, ...(a.sid ? { sid: freshId(a.sid) } : {}) }])) }
      : {}),
  };
  return { id, payload: copy };
}

/** Stores clones of `sources` (round robin) through the adapter until `target` sessions exist. */
export async function fillSessions(store: SessionStore, sources: StoredSession[], missing: number, width: number): Promise<number> {
  if (sources.length === 0) throw new Error('no stored session to clone: the sign-in flows created none');
  const Adapter = store.adapter;
  const sessions = new Adapter('Session');
  const jobs = Array.from({ length: Math.max(0, missing) }, (_, i) => i);
  await inParallel(jobs, width, async (i) => {
    const source = sources[i % sources.length] as StoredSession;
    const { id, payload } = cloneSession(source.payload);
    await sessions.upsert(id, payload, Number.isFinite(source.ttl) ? Math.max(60, Math.floor(source.ttl)) : undefined);
  });
  return jobs.length;
}
