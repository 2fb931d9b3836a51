// Recovery codes are single-use (DESIGN.md §9): a code spent by one request is refused to every other,
// including requests racing with it; regenerating removes every old code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const hashes = (tag: string) => Array.from({ length: 10 }, (_, i) => `$argon2id$${tag}-${i}`);

describe(`recovery codes on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let accountId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    const distributor = await repos.tenants.create({ kind: 'distributor', name: 'D', parentId: platform.id });
    accountId = (await repos.accounts.create({ tenantId: distributor.id, email: 'r@example.com', passwordHash: 'h' })).id;
  });
  afterAll(() => database.dispose());

  // On PostgreSQL the racing statements run on several pooled connections at once; PGlite has one
  // connection and runs them one after another. Either way the outcome (one spender) is the proof.
  it('lets exactly one of 20 racing requests spend a code', async () => {
    await repos.recoveryCodes.replace(accountId, hashes('a'));
    const codes = await repos.recoveryCodes.listUnused(accountId);
    expect(codes).toHaveLength(10);
    const target = codes[3]!;
    const results = await Promise.all(Array.from({ length: 20 }, () => repos.recoveryCodes.consume(target.id)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await repos.recoveryCodes.consume(target.id)).toBe(false);
    expect(await repos.recoveryCodes.countUnused(accountId)).toBe(9);
    expect((await repos.recoveryCodes.listUnused(accountId)).map((c) => c.id)).not.toContain(target.id);
  });

  it('removes every old code when the codes are regenerated', async () => {
    await repos.recoveryCodes.replace(accountId, hashes('old'));
    const old = await repos.recoveryCodes.listUnused(accountId);
    await repos.recoveryCodes.replace(accountId, hashes('new'));
    const fresh = await repos.recoveryCodes.listUnused(accountId);
    expect(fresh.map((c) => c.codeHash).sort()).toEqual(hashes('new').sort());
    for (const code of old) expect(await repos.recoveryCodes.consume(code.id)).toBe(false);
    expect(await repos.recoveryCodes.countUnused(accountId)).toBe(10);
  });

  it('leaves one complete set when two regenerations race', async () => {
    await Promise.all([repos.recoveryCodes.replace(accountId, hashes('x')), repos.recoveryCodes.replace(accountId, hashes('y'))]);
    const codes = (await repos.recoveryCodes.listUnused(accountId)).map((c) => c.codeHash).sort();
    expect([hashes('x').sort(), hashes('y').sort()]).toContainEqual(codes);
  });

  it('removes all codes when given none (MFA reset)', async () => {
    await repos.recoveryCodes.replace(accountId, []);
    expect(await repos.recoveryCodes.countUnused(accountId)).toBe(0);
  });

  it('replaces codes atomically in one statement where transactions are unavailable', async () => {
    const single = createRepos(database.db, { transactional: false });
    await single.recoveryCodes.replace(accountId, hashes('s1'));
    await single.recoveryCodes.replace(accountId, hashes('s2'));
    expect((await single.recoveryCodes.listUnused(accountId)).map((c) => c.codeHash).sort()).toEqual(hashes('s2').sort());
  });

  it('refuses a malformed code id', async () => {
    expect(await repos.recoveryCodes.consume('nope')).toBe(false);
  });
});
