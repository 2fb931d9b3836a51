// The database handle: PostgreSQL through node-postgres when DATABASE_URL is set, otherwise embedded
// PGlite in DATA_DIR/pg. PGlite is single-process, so the process that owns it (the server, or a CLI
// run while no server runs) holds DATA_DIR/gatehouse.lock and shares the database with other local
// processes over a unix socket in DATA_DIR/run; a CLI started while the server runs connects there.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QueryConfig } from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { sql, type SQL } from 'drizzle-orm';
import { replacingMethod } from './replacing-method.ts';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.ts';
import { GatehouseError } from '../domain/errors.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseKind = 'postgres' | 'pglite' | 'pglite-socket';

/**
 * What a server owning an embedded database tells the commands that join it: a CLI acts on the
 * server's behalf (logout tokens carry its issuer, links point at it, back-channel logout reaches the
 * apps it reaches), so these follow the server, not the shell the command runs in.
 */
export interface ServerSettings {
  issuer: string;
  fetchAllowPrivateNetworks: boolean;
}

export interface Database {
  db: Db;
  kind: DatabaseKind;
  /** true when statements may be grouped in a transaction (false over the shared PGlite socket). */
  transactional: boolean;
  migrate(): Promise<void>;
  /** runs `work` while holding a cluster-wide lock named `name` (one process at a time across instances). */
  exclusive: Exclusive;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** over the shared PGlite socket: the settings of the server that owns the database. */
  server?: ServerSettings | undefined;
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** `server` owns an embedded database and shares it; `client` (the CLI) joins a running server when there is one. */
  role: 'server' | 'client';
  /** PostgreSQL schema to use (tests isolate themselves this way). */
  schemaName?: string;
  /**
   * An embedded database directory this process alone uses, instead of DATA_DIR/pg: no lock file and no
   * socket for commands (tests open a copy of one migrated database each).
   */
  privateDirectory?: string;
  poolSize?: number;
  /** `server` role on the embedded database: published to the commands that join it. */
  settings?: ServerSettings;
}

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));
const MIGRATION_LOCK_ID = 725_017_001;
const SOCKET_PORT = 5432;

// Each storage mode loads only its own driver: a PostgreSQL deployment never loads PGlite's WebAssembly,
// and the embedded default never loads node-postgres unless a command joins a running server.
const postgresDriver = async () => {
  const [{ default: pg }, { drizzle }, { migrate }] = await Promise.all([import('pg'), import('drizzle-orm/node-postgres'), import('drizzle-orm/node-postgres/migrator')]);
  return { pg, drizzle, migrate };
};
const pgliteDriver = async () => {
  const [{ PGlite }, { drizzle }, { migrate }, { preparingStatements }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
    import('./pglite-prepared.ts'),
  ]);
  return { PGlite, drizzle, migrate, preparingStatements };
};

/**
 * Opens the PGlite database in `directory` with a buffer pool of 16 MB instead of PostgreSQL's 128 MB:
 * the pool is initialised when the database opens and stays resident, and the embedded database's files
 * are read through the operating system's page cache anyway. About 110 MB less memory for every embedded
 * server, with the same time per statement on the bench's data.
 */
async function createPglite(directory: string): Promise<PGlite> {
  const { PGlite } = await pgliteDriver();
  return PGlite.create(directory, { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] });
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  if (options.privateDirectory) return openEmbedded(await createPglite(options.privateDirectory), undefined);
  return openEmbeddedShared(options);
}

const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 10_000;
const LOCK_WAIT_MS = 120_000;

async function openPostgres(connectionString: string, options: OpenOptions): Promise<Database> {
  const { pg, drizzle: drizzlePg, migrate: migratePg } = await postgresDriver();
  const schemaName = options.schemaName;
  if (schemaName && !/^[a-z_][a-z0-9_]*$/.test(schemaName)) throw new Error(`invalid schema name ${schemaName}`);
  const settings = { connectionString, ...(schemaName ? { options: `-c search_path=${schemaName}` } : {}) };
  // Bounded waits: with PostgreSQL down or not answering, a request fails (503, src/http/unavailable.ts)
  // instead of hanging: a connection is made within 5 s, a query answers within 10 s.
  const pool = new pg.Pool({ ...settings, max: options.poolSize ?? 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS });
  pool.on('error', () => undefined); // idle client errors surface on the next query instead of crashing
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    transactional: true,
    async migrate() {
      // its own connection without the query timeout: a migration may wait for another instance's, or build an index
      const client = new pg.Client({ ...settings, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
      await client.connect();
      try {
        if (schemaName) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schemaName}`);
        // Two instances starting together must not both apply the same migration.
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
        try {
          await migratePg(drizzlePg(client, { schema }), {
            migrationsFolder,
            ...(schemaName ? { migrationsSchema: schemaName } : {}),
          });
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
        }
      } finally {
        await client.end();
      }
    },
    exclusive: queuedPerName(async (name, work) => {
      // The lock is held on one pooled connection while `work` uses the others.
      const client = await pool.connect();
      try {
        // waiting for another instance's turn may take longer than one query may
        const lock: QueryConfig & { query_timeout: number } = { text: 'SELECT pg_advisory_lock(hashtext($1))', values: [name], query_timeout: LOCK_WAIT_MS };
        await client.query(lock);
        try {
          return await work();
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
        }
      } finally {
        client.release();
      }
    }),
    async ping() {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}

/** An embedded database has one owning process (the lock file), so its work is already exclusive. */
const alreadyExclusive = <T>(_name: string, work: () => Promise<T>) => work();

export type Exclusive = <T>(name: string, work: () => Promise<T>) => Promise<T>;

/**
 * Callers in one process wait their turn in memory, so a process never parks several pooled
 * connections on the same advisory lock (which could leave the holder's work without a connection).
 */
function queuedPerName(lock: Exclusive): Exclusive {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(name: string, work: () => Promise<T>) => {
    const previous = tails.get(name) ?? Promise.resolve();
    const run = previous.then(
      () => lock(name, work),
      () => lock(name, work),
    );
    const tail = run.catch(() => undefined);
    tails.set(name, tail);
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
    return run;
  };
}

async function openEmbedded(pglite: PGlite, onClose: (() => Promise<void>) | undefined): Promise<Database> {
  const { drizzle: drizzlePglite, migrate: migratePglite, preparingStatements } = await pgliteDriver();
  const db = drizzlePglite(preparingStatements(pglite), { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    transactional: true,
    migrate: () => migratePglite(drizzlePglite(pglite, { schema }), { migrationsFolder }),
    exclusive: alreadyExclusive,
    async ping() {
      await db.execute(sql`SELECT 1`);
    },
    async close() {
      await onClose?.();
      await pglite.close();
    },
  };
}

interface LockInfo {
  pid: number;
  socketDir: string;
  role: 'server' | 'client';
  settings?: ServerSettings | undefined;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function readLock(lockFile: string): LockInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(lockFile, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/** Takes DATA_DIR/gatehouse.lock, or returns who holds it. A lock left by a dead process is taken over. */
function acquireLock(lockFile: string, info: LockInfo): { acquired: true } | { acquired: false; holder: LockInfo } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, JSON.stringify(info), { flag: 'wx', mode: 0o600 });
      return { acquired: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(lockFile);
      if (holder && isAlive(holder.pid) && holder.pid !== process.pid) return { acquired: false, holder };
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new GatehouseError('data_dir_locked', 503, `cannot lock ${lockFile}`);
}

async function openEmbeddedShared(options: OpenOptions): Promise<Database> {
  const dataDir = options.dataDir;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockFile = path.join(dataDir, 'gatehouse.lock');
  const socketDir = path.join(dataDir, 'run');
  const lock = acquireLock(lockFile, { pid: process.pid, socketDir, role: options.role, settings: options.settings });

  if (!lock.acquired) {
    const { holder } = lock;
    if (options.role === 'server' || holder.role !== 'server') {
      throw new GatehouseError(
        'data_dir_in_use',
        409,
        `The embedded database in ${dataDir} is in use by process ${holder.pid} (${holder.role === 'server' ? 'a running Gatehouse server' : 'a gatehouse command'}). ` +
          (options.role === 'server'
            ? 'Stop it first, or give this instance its own DATA_DIR, or use PostgreSQL (DATABASE_URL) to run several instances.'
            : 'Wait for it to finish and try again.'),
      );
    }
    return connectToRunningServer(holder);
  }

  const release = () => {
    if (readLock(lockFile)?.pid === process.pid) fs.rmSync(lockFile, { force: true });
  };
  let pglite: PGlite;
  try {
    pglite = await createPglite(path.join(dataDir, 'pg'));
  } catch (e) {
    release();
    throw new GatehouseError('data_dir_unreadable', 500, `cannot open the embedded database in ${path.join(dataDir, 'pg')}`, String(e));
  }
  let server: PGLiteSocketServer | undefined;
  if (options.role === 'server') {
    fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    const socketPath = path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);
    fs.rmSync(socketPath, { force: true });
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    server = new PGLiteSocketServer({ db: pglite, path: socketPath, maxConnections: 4 });
    await server.start();
  }
  process.once('exit', release);
  return openEmbedded(pglite, async () => {
    await server?.stop();
    release();
  });
}

/**
 * The shared PGlite has one session for every client of its socket: a statement this process named
 * (drizzle names the repositories' prepared queries) would outlive it, and the next command naming
 * it again would fail with "prepared statement already exists". Over the socket, queries go unnamed.
 */
function withoutNamedStatements<P extends { query: (...args: never[]) => unknown }>(pool: P): P {
  const query = (config: unknown, ...rest: unknown[]) => {
    const unnamed = typeof config === 'object' && config !== null && 'name' in config ? { ...config, name: undefined } : config;
    return (pool.query as (...args: unknown[]) => unknown).call(pool, unnamed, ...rest);
  };
  return replacingMethod(pool, 'query', query as P['query']);
}

async function connectToRunningServer(holder: LockInfo): Promise<Database> {
  const { pg, drizzle: drizzlePg, migrate: migratePg } = await postgresDriver();
  const pool = withoutNamedStatements(new pg.Pool({ host: holder.socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', max: 1 }));
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end();
    throw new GatehouseError(
      'data_dir_unreachable',
      503,
      `A Gatehouse server (process ${holder.pid}) holds the embedded database but its socket in ${holder.socketDir} does not answer. Check that the server is healthy, or stop it and run the command again.`,
      String(e),
    );
  }
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite-socket',
    // The shared PGlite has one connection: a transaction opened here would swallow the server's statements.
    transactional: false,
    async migrate() {
      await migratePg(drizzlePg(pool, { schema }), { migrationsFolder });
    },
    exclusive: alreadyExclusive,
    async ping() {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
    server: holder.settings,
  };
}

/** Runs raw SQL on either driver (both answer with `{ rows }`). Repositories prefer the query builder. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
