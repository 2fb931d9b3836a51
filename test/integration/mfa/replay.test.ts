// RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP after the successful
// validation has been issued for the first OTP". A step once accepted is never accepted again, even
// by parallel requests (DESIGN.md §9, §12.3: compare-and-set of last_used_step in one UPDATE).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`TOTP replay guard on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let tenantId: string;
  let n = 0;

  const newAccount = async () =>
    (await repos.accounts.create({ tenantId, email: `user${++n}@example.com`, passwordHash: 'h' })).id;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    const distributor = await repos.tenants.create({ kind: 'distributor', name: 'D', parentId: platform.id });
    tenantId = distributor.id;
  });
  afterAll(() => database.dispose());

  it('accepts one step exactly once when 20 requests race with the same code', async () => {
    const accountId = await newAccount();
    await repos.mfa.importConfirmedTotp(accountId, 'sealed');
    const step = 58_000_000;
    const results = await Promise.all(Array.from({ length: 20 }, () => repos.mfa.consumeTotpStep(accountId, step)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await repos.mfa.getTotp(accountId))?.lastUsedStep).toBe(step);
  });

  it('refuses the same step again, and any older step', async () => {
    const accountId = await newAccount();
    await repos.mfa.importConfirmedTotp(accountId, 'sealed');
    expect(await repos.mfa.consumeTotpStep(accountId, 1000)).toBe(true);
    expect(await repos.mfa.consumeTotpStep(accountId, 1000)).toBe(false);
    expect(await repos.mfa.consumeTotpStep(accountId, 999)).toBe(false); // the previous window (±1 step) cannot be replayed either
    expect(await repos.mfa.consumeTotpStep(accountId, 1001)).toBe(true);
  });

  it('lets two different steps race: only steps newer than the last accepted one pass', async () => {
    const accountId = await newAccount();
    await repos.mfa.importConfirmedTotp(accountId, 'sealed');
    const [newer, older] = await Promise.all([repos.mfa.consumeTotpStep(accountId, 2001), repos.mfa.consumeTotpStep(accountId, 2000)]);
    expect(newer).toBe(true);
    expect(typeof older).toBe('boolean'); // 2000 passes only if it ran first
    expect((await repos.mfa.getTotp(accountId))?.lastUsedStep).toBe(2001);
  });

  it('accepts no step for a pending (unconfirmed) authenticator', async () => {
    const accountId = await newAccount();
    expect(await repos.mfa.savePendingTotp(accountId, 'sealed', new Date(Date.now() + 600_000))).toBe(true);
    expect(await repos.mfa.consumeTotpStep(accountId, 5000)).toBe(false);
    expect(await repos.mfa.consumeTotpStep('00000000-0000-4000-8000-000000000000', 5000)).toBe(false);
  });

  it('spends the step that confirmed an enrolment, so that code cannot sign in afterwards', async () => {
    const accountId = await newAccount();
    await repos.mfa.savePendingTotp(accountId, 'sealed', new Date(Date.now() + 600_000));
    const now = new Date();
    const confirms = await Promise.all(Array.from({ length: 10 }, () => repos.mfa.confirmPendingTotp(accountId, 7000, now)));
    expect(confirms.filter(Boolean)).toHaveLength(1);
    const totp = await repos.mfa.getTotp(accountId);
    expect(totp?.confirmedAt).toBeInstanceOf(Date);
    expect(totp?.pendingExpiresAt).toBeNull();
    expect(await repos.mfa.consumeTotpStep(accountId, 7000)).toBe(false);
    expect(await repos.mfa.consumeTotpStep(accountId, 7001)).toBe(true);
  });

  it('refuses to confirm an enrolment that has expired', async () => {
    const accountId = await newAccount();
    await repos.mfa.savePendingTotp(accountId, 'sealed', new Date(Date.now() + 60_000));
    expect(await repos.mfa.confirmPendingTotp(accountId, 8000, new Date(Date.now() + 120_000))).toBe(false);
  });

  it('never replaces a confirmed authenticator with a pending one', async () => {
    const accountId = await newAccount();
    await repos.mfa.importConfirmedTotp(accountId, 'confirmed-secret');
    expect(await repos.mfa.savePendingTotp(accountId, 'attacker-secret', new Date(Date.now() + 600_000))).toBe(false);
    const totp = await repos.mfa.getTotp(accountId);
    expect(totp).toMatchObject({ secretEnc: 'confirmed-secret', source: 'imported' });
  });

  it('replaces an earlier pending enrolment with a new one', async () => {
    const accountId = await newAccount();
    await repos.mfa.savePendingTotp(accountId, 'first', new Date(Date.now() + 600_000));
    expect(await repos.mfa.savePendingTotp(accountId, 'second', new Date(Date.now() + 600_000))).toBe(true);
    expect((await repos.mfa.getTotp(accountId))?.secretEnc).toBe('second');
  });

  it('forgets expired pending enrolments', async () => {
    const accountId = await newAccount();
    await repos.mfa.savePendingTotp(accountId, 'stale', new Date(Date.now() - 1000));
    expect(await repos.mfa.getTotp(accountId)).toBeUndefined();
    expect(await repos.mfa.purgeExpiredPending(new Date())).toBeGreaterThanOrEqual(1);
    expect(await repos.mfa.savePendingTotp(accountId, 'fresh', new Date(Date.now() + 600_000))).toBe(true);
  });

  it('deletes an authenticator (reset)', async () => {
    const accountId = await newAccount();
    await repos.mfa.importConfirmedTotp(accountId, 'sealed');
    expect(await repos.mfa.deleteTotp(accountId)).toBe(true);
    expect(await repos.mfa.getTotp(accountId)).toBeUndefined();
    expect(await repos.mfa.deleteTotp(accountId)).toBe(false);
  });
});
