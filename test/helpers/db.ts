// A migrated, isolated database per test file: a fresh schema on the real PostgreSQL when
// DATABASE_URL is set, otherwise a PGlite directory copied from a migrated template.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { sql } from 'drizzle-orm';
import { migrationsFolder, openDatabase, type Database } from '../../src/store/db.ts';

export interface TestDatabase extends Database {
  /** set on PostgreSQL: the isolated schema, for processes started by the test. */
  schemaName: string | undefined;
  dispose(): Promise<void>;
}

/** DATABASE_URL of the run: set in the PostgreSQL + Redis mode, unset in the embedded mode. */
export const testDatabaseUrl = () => process.env.DATABASE_URL || undefined;
/**
 * For tests about PostgreSQL itself (several instances on one database): the run's database, or the
 * local server in the embedded mode, so they run (never skip) in both modes.
 */
export const postgresUnderTest = () => testDatabaseUrl() ?? 'postgres://postgres@127.0.0.1:5432/test';
export const backendName = () => (testDatabaseUrl() ? 'PostgreSQL' : 'PGlite');

/**
 * Creating a PGlite database (initdb) and migrating it costs seconds, so the first test file to need
 * one writes a template directory to the temporary directory, named after the migrations and the
 * PGlite version, and every database of the run is a copy of it. Opening a copied directory costs about
 * 60 % of the CPU of loading the same database into memory from a dump.
 */
function templateName(kind: 'empty' | 'migrated'): string {
  const digest = createHash('sha256').update(fs.readFileSync(path.resolve(migrationsFolder, '../../../node_modules/@electric-sql/pglite/package.json')));
  for (const file of fs.readdirSync(migrationsFolder, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(migrationsFolder, file);
    if (fs.statSync(full).isFile()) digest.update(file).update(fs.readFileSync(full));
  }
  return path.join(os.tmpdir(), `gatehouse-test-pglite-${kind}-${digest.digest('hex').slice(0, 16)}`);
}

/** A name next to `target` for writing before the rename, so a file running in parallel never reads half a copy. */
const aside = (target: string) => `${target}.${process.pid}.${randomBytes(4).toString('hex')}`;

/** Copies an embedded database directory to `target`: `empty` just after initdb, `migrated` after every migration. */
export async function copyTemplateDataDir(target: string, kind: 'empty' | 'migrated' = 'migrated'): Promise<void> {
  const template = templateName(kind);
  if (!fs.existsSync(template)) {
    const partial = aside(template);
    const pglite = await PGlite.create(partial);
    if (kind === 'migrated') await migrate(drizzle(pglite), { migrationsFolder });
    await pglite.close();
    try {
      fs.renameSync(partial, template);
    } catch {
      fs.rmSync(partial, { recursive: true, force: true }); // another file made it first
    }
  }
  fs.cpSync(template, target, { recursive: true });
}

/**
 * A database of its own for one test file: on `databaseUrl` (default: the run's), else a PGlite directory;
 * migrated unless `migrated: false` (for tests of the migrations themselves).
 */
export async function createTestDatabase(options: { databaseUrl?: string | undefined; migrated?: boolean } = {}): Promise<TestDatabase> {
  const url = 'databaseUrl' in options ? options.databaseUrl : testDatabaseUrl();
  const schemaName = url ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const directory = url ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-test-db-'));
  if (directory) await copyTemplateDataDir(path.join(directory, 'pg'), options.migrated === false ? 'empty' : 'migrated');
  const database = await openDatabase({
    databaseUrl: url,
    dataDir: '',
    role: 'server',
    ...(directory ? { privateDirectory: path.join(directory, 'pg') } : {}),
    schemaName,
    poolSize: 4,
  });
  if (options.migrated === false) {
    if (schemaName) await database.db.execute(sql.raw(`CREATE SCHEMA ${schemaName}`));
  } else {
    await database.migrate();
  }
  return {
    ...database,
    schemaName,
    async dispose() {
      await database.close();
      if (directory) fs.rmSync(directory, { recursive: true, force: true });
      if (url && schemaName) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schemaName} CASCADE`);
        await client.end();
      }
    },
  };
}
