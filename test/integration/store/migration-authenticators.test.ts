// Upgrading a database of the first release: the one-per-account `mfa_totp` table becomes the
// `authenticators` list. A confirmed authenticator keeps working (its sealed secret and its spent steps
// move over), an unconfirmed enrolment is dropped (pending setups are flows now, never rows).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrationsFolder, queryRows } from '../../../src/store/db.ts';
import { createRepos } from '../../../src/store/repos.ts';
import { createSecretBox, generateSecretKey, parseKeyring } from '../../../src/domain/secrets.ts';
import { totpSecretContext } from '../../../src/domain/mfa/service.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { mfaServiceOver, newTotpSecret } from '../../helpers/mfa.ts';
import { referenceTotp } from '../../helpers/totp-reference.ts';

/** A copy of the migrations folder that stops after the first release's migration. */
function firstReleaseMigrations(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-migrations-'));
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  const first = journal.entries.slice(0, 1);
  fs.mkdirSync(path.join(dir, 'meta'));
  fs.writeFileSync(path.join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: first }));
  for (const e of first) fs.copyFileSync(path.join(migrationsFolder, `${e.tag}.sql`), path.join(dir, `${e.tag}.sql`));
  return dir;
}

describe(`upgrade to the authenticators list on ${backendName()}`, () => {
  let database: TestDatabase;
  let schemaName: string | undefined;

  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
    ({ schemaName } = database);
    const folder = firstReleaseMigrations();
    if (schemaName) {
      await migratePg(database.db as unknown as NodePgDatabase, { migrationsFolder: folder, migrationsSchema: schemaName });
    } else {
      await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder: folder });
    }
  });
  afterAll(() => database.dispose());

  it('moves confirmed authenticators with their secret and replay guard, drops pending enrolments, and the moved one still signs in', async () => {
    const box = createSecretBox(parseKeyring(generateSecretKey()));
    const secret = newTotpSecret();
    const [platform] = await queryRows<{ id: string }>(database.db, sql`insert into tenants (kind, name, slug) values ('platform', 'P', 'p') returning id`);
    const [confirmed] = await queryRows<{ id: string }>(database.db, sql`insert into accounts (tenant_id, email) values (${platform!.id}, 'c@example.com') returning id`);
    const [pending] = await queryRows<{ id: string }>(database.db, sql`insert into accounts (tenant_id, email) values (${platform!.id}, 'p@example.com') returning id`);
    const usedStep = Math.floor(Date.now() / 30_000) - 5;
    await database.db.execute(sql`
      insert into mfa_totp (account_id, secret_enc, confirmed_at, last_used_step, source)
      values (${confirmed!.id}, ${box.seal(secret, totpSecretContext(confirmed!.id))}, now() - interval '1 day', ${usedStep}, 'imported'),
             (${pending!.id}, 'pending-secret', null, -1, 'enrolled')`);

    await database.migrate();

    const repos = createRepos(database.db, { transactional: database.transactional });
    const [moved, ...others] = await repos.authenticators.listForAccount(confirmed!.id);
    expect(others).toEqual([]);
    expect(moved).toMatchObject({ kind: 'totp', label: 'Authenticator app', source: 'imported', lastUsedStep: usedStep });
    expect(await repos.authenticators.countForAccount(pending!.id)).toBe(0);
    expect((await repos.accounts.findById(confirmed!.id))?.mfaStatus).toBe('active');
    expect((await repos.accounts.findById(pending!.id))?.mfaStatus).toBe('inactive');

    const mfa = mfaServiceOver(repos, box);
    const owner = { id: confirmed!.id, email: 'c@example.com', name: null, tenantId: platform!.id, tenantName: 'P' };
    const now = new Date();
    expect(await mfa.verifyTotp(owner, referenceTotp(secret, Math.floor(now.getTime() / 1000)), {}, now)).toMatchObject({ ok: true, factor: 'otp' });
    // a step spent before the upgrade stays spent
    expect(await mfa.verifyTotp(owner, referenceTotp(secret, usedStep * 30), {}, new Date(usedStep * 30_000))).toMatchObject({ ok: false });
  });
});
