// A migrated, isolated database per test file: a fresh schema on the real PostgreSQL when
// DATABASE_URL is set, otherwise an in-memory PGlite copied from a migrated image.
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
 * Creating a PGlite database and migrating it costs seconds (tens of seconds on a busy machine), so the
 * first test file to need one writes a migrated copy to the temporary directory, named after the
 * migrations and the PGlite version, and every database of the run starts from it.
 */
function migratedCopyName(kind: string): string {
  const digest = createHash('sha256').update(fs.readFileSync(path.resolve(migrationsFolder, '../../../node_modules/@electric-sql/pglite/package.json')));
  for (const file of fs.readdirSync(migrationsFolder, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(migrationsFolder, file);
    if (fs.statSync(full).isFile()) digest.update(file).update(fs.readFileSync(full));
  }
  return path.join(os.tmpdir(), `gatehouse-test-pglite-${kind}-${digest.digest('hex').slice(0, 16)}`);
}

/** A name next to `target` for writing before the rename, so a file running in parallel never reads half a copy. */
const aside = (target: string) => `${target}.${process.pid}.${randomBytes(4).toString('hex')}`;

/**
 * A migrated embedded database directory (DATA_DIR/pg) for Gatehouse processes under test whose first
 * start is not what they test: `target` gets a copy.
 */
export async function copyMigratedDataDir(target: string): Promise<void> {
  const template = migratedCopyName('dir');
  if (!fs.existsSync(template)) {
    const partial = aside(template);
    const pglite = await PGlite.create(partial);
    await migrate(drizzle(pglite), { migrationsFolder });
    await pglite.close();
    try {
      fs.renameSync(partial, template);
    } catch {
      fs.rmSync(partial, { recursive: true, force: true }); // another file made it first
    }
  }
  fs.cpSync(template, target, { recursive: true });
}

/** A dumped in-memory PGlite database, created once per run: `empty` just after initdb, `migrated` after every migration. */
async function pgliteImage(kind: 'empty' | 'migrated'): Promise<Blob> {
  const imageFile = `${migratedCopyName(`image-${kind}`)}.tar`;
  if (!fs.existsSync(imageFile)) {
    const pglite = await PGlite.create();
    if (kind === 'migrated') await migrate(drizzle(pglite), { migrationsFolder });
    const image = await pglite.dumpDataDir('none');
    await pglite.close();
    const partial = aside(imageFile);
    fs.writeFileSync(partial, Buffer.from(await image.arrayBuffer()));
    fs.renameSync(partial, imageFile);
  }
  // read now, not through a file-backed blob: a file that finished its own copy at the same moment may
  // rename over this one, and a file-backed blob refuses to read a file changed after it was opened
  return new Blob([fs.readFileSync(imageFile)]);
}

/**
 * A database of its own for one test file: on `databaseUrl` (default: the run's), else in-memory PGlite;
 * migrated unless `migrated: false` (for tests of the migrations themselves).
 */
export async function createTestDatabase(options: { databaseUrl?: string | undefined; migrated?: boolean } = {}): Promise<TestDatabase> {
  const url = 'databaseUrl' in options ? options.databaseUrl : testDatabaseUrl();
  const schemaName = url ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const database = await openDatabase({
    databaseUrl: url,
    dataDir: '',
    role: 'server',
    inMemory: !url,
    ...(url ? {} : { image: await pgliteImage(options.migrated === false ? 'empty' : 'migrated') }),
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
      if (url && schemaName) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schemaName} CASCADE`);
        await client.end();
      }
    },
  };
}
