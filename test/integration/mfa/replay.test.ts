// RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP after the successful
// validation has been issued for the first OTP". A step once accepted by an authenticator is never
// accepted again by it, even by parallel requests (DESIGN.md §9, §12.3: compare-and-set of
// last_used_step in one UPDATE); and an account's authenticators form a list.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`authenticators and the TOTP replay guard on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let tenantId: string;
  let n = 0;
  const now = new Date();

  const newAccount = async () => (await repos.accounts.create({ tenantId, email: `user${++n}@example.com`, passwordHash: 'h' })).id;
  const addTotp = async (accountId: string, label = 'Phone', lastUsedStep = -1) =>
    (await repos.authenticators.addTotp({ accountId, label, secretEnc: `sealed-${label}`, lastUsedStep, source: 'enrolled' }, { onlyIfNone: false }))!;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    tenantId = (await repos.tenants.create({ kind: 'distributor', name: 'D', parentId: platform.id })).id;
  });
  afterAll(() => database.dispose());

  // On PostgreSQL the racing statements run on several pooled connections at once; PGlite has one
  // connection and runs them one after another. Either way the outcome (one acceptance) is the proof:
  // a read-then-write in JS would accept the step several times under both.
  it('accepts one step exactly once when 20 requests race with the same code', async () => {
    const a = await addTotp(await newAccount());
    const step = 58_000_000;
    const results = await Promise.all(Array.from({ length: 20 }, () => repos.authenticators.consumeTotpStep(a.id, step, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const [stored] = await repos.authenticators.listForAccount(a.accountId);
    expect(stored).toMatchObject({ lastUsedStep: step, lastUsedAt: now });
  });

  it('refuses the same step again, and any older step', async () => {
    const a = await addTotp(await newAccount());
    expect(await repos.authenticators.consumeTotpStep(a.id, 1000, now)).toBe(true);
    expect(await repos.authenticators.consumeTotpStep(a.id, 1000, now)).toBe(false);
    expect(await repos.authenticators.consumeTotpStep(a.id, 999, now)).toBe(false); // the previous window (±1 step) cannot be replayed either
    expect(await repos.authenticators.consumeTotpStep(a.id, 1001, now)).toBe(true);
  });

  it('keeps the replay guard per authenticator: a step spent on one phone is still fresh on another', async () => {
    const accountId = await newAccount();
    const oldPhone = await addTotp(accountId, 'Old phone');
    const newPhone = await addTotp(accountId, 'New phone');
    expect(await repos.authenticators.consumeTotpStep(oldPhone.id, 3000, now)).toBe(true);
    expect(await repos.authenticators.consumeTotpStep(newPhone.id, 3000, now)).toBe(true);
    expect(await repos.authenticators.consumeTotpStep(oldPhone.id, 3000, now)).toBe(false);
    expect((await repos.authenticators.listForAccount(accountId)).map((a) => a.label)).toEqual(['Old phone', 'New phone']);
  });

  it('spends the step that confirmed an enrolment, so that code cannot sign in afterwards', async () => {
    const a = await addTotp(await newAccount(), 'Phone', 7000);
    expect(await repos.authenticators.consumeTotpStep(a.id, 7000, now)).toBe(false);
    expect(await repos.authenticators.consumeTotpStep(a.id, 7001, now)).toBe(true);
  });

  it('refuses unknown and malformed authenticator ids', async () => {
    expect(await repos.authenticators.consumeTotpStep('00000000-0000-4000-8000-000000000000', 5000, now)).toBe(false);
    expect(await repos.authenticators.consumeTotpStep('nope', 5000, now)).toBe(false);
  });

  // The forced setup of a sign-in adds the first authenticator only: when two browsers confirm their own
  // secrets at once, one wins and the other must verify with it.
  it('adds at most one first authenticator when 10 confirmations race', async () => {
    const accountId = await newAccount();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        repos.authenticators.addTotp({ accountId, label: `Browser ${i}`, secretEnc: `s${i}`, lastUsedStep: 1, source: 'enrolled' }, { onlyIfNone: true }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await repos.authenticators.countForAccount(accountId)).toBe(1);
    expect(await repos.authenticators.addTotp({ accountId, label: 'Late', secretEnc: 's', lastUsedStep: 1, source: 'enrolled' }, { onlyIfNone: true })).toBeUndefined();
    expect(await repos.authenticators.addTotp({ accountId, label: 'Second phone', secretEnc: 's', lastUsedStep: 1, source: 'enrolled' }, { onlyIfNone: false })).toBeDefined();
  });

  it('replaces the authenticator apps and invalidates recovery codes on import, keeping other kinds of authenticator', async () => {
    const accountId = await newAccount();
    await addTotp(accountId, 'Old phone');
    await repos.recoveryCodes.replace(accountId, ['h1', 'h2']);
    const imported = await repos.authenticators.replaceTotpWithImported({ accountId, label: 'Imported', secretEnc: 'sealed-imported' });
    expect(imported).toMatchObject({ kind: 'totp', source: 'imported', lastUsedStep: -1, label: 'Imported' });
    expect((await repos.authenticators.listForAccount(accountId)).map((a) => a.label)).toEqual(['Imported']);
    expect(await repos.recoveryCodes.countUnused(accountId)).toBe(0);
  });

  it('renames and removes only the owner’s authenticators', async () => {
    const owner = await newAccount();
    const other = await newAccount();
    const a = await addTotp(owner);
    expect(await repos.authenticators.rename(other, a.id, 'Stolen')).toBe(false);
    expect(await repos.authenticators.remove(other, a.id)).toBe(false);
    expect(await repos.authenticators.rename(owner, a.id, 'Work phone')).toBe(true);
    expect((await repos.authenticators.listForAccount(owner))[0]?.label).toBe('Work phone');
    expect(await repos.authenticators.remove(owner, a.id)).toBe(true);
    expect(await repos.authenticators.remove(owner, a.id)).toBe(false);
    expect(await repos.authenticators.countForAccount(owner)).toBe(0);
  });
});
