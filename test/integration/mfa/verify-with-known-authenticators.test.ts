// A second-factor page reads an account's authenticators and its lock in one statement
// (secondFactorState). A TOTP check handed the authenticators its request already read (the code
// page's offers) tries those secrets without listing them again, and stays safe: a code of an
// authenticator removed since is refused (its step cannot be consumed), a list of another account's
// authenticators matches nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { createSecretBox, generateSecretKey, parseKeyring } from '../../../src/domain/secrets.ts';
import { totpSecretContext, type MfaService } from '../../../src/domain/mfa/service.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { mfaServiceOver, newTotpSecret } from '../../helpers/mfa.ts';
import { referenceTotp } from '../../helpers/totp-reference.ts';

describe(`verifyTotp with the authenticators already read, on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let mfa: MfaService;
  let tenantId: string;
  let listed = 0;
  let n = 0;
  const box = createSecretBox(parseKeyring(generateSecretKey()));

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    const platform = await repos.tenants.ensurePlatform('Platform');
    tenantId = (await repos.tenants.create({ kind: 'distributor', name: 'Known', parentId: platform.id })).id;
    mfa = mfaServiceOver(repos, box, {
      ...repos.authenticators,
      listForAccount: (accountId) => {
        listed++;
        return repos.authenticators.listForAccount(accountId);
      },
    });
  });
  afterAll(() => database.dispose());

  /** An account with one confirmed authenticator app; returns its owner, the secret and the row's id. */
  async function withTotp() {
    const account = await repos.accounts.create({ tenantId, email: `known${++n}@example.com`, passwordHash: 'h' });
    const secret = newTotpSecret();
    const row = await repos.authenticators.addTotp(
      { accountId: account.id, label: 'Phone', secretEnc: box.seal(secret, totpSecretContext(account.id)), lastUsedStep: -1, source: 'enrolled' },
      { onlyIfNone: false },
    );
    const owner = { id: account.id, email: account.email, name: null, tenantId, tenantName: 'Known' };
    return { owner, secret, id: row!.id };
  }
  const codeNow = (secret: string, now: Date) => referenceTotp(secret, Math.floor(now.getTime() / 1000));

  it('accepts a code against the list it is given, without listing the authenticators again', async () => {
    const { owner, secret } = await withTotp();
    const known = (await mfa.secondFactorState(owner.id, new Date())).authenticators;
    const before = listed;
    const now = new Date();
    expect(await mfa.verifyTotp(owner, codeNow(secret, now), {}, now, known)).toMatchObject({ ok: true, factor: 'otp' });
    expect(listed).toBe(before);
    // without a list it reads them itself
    const later = new Date(now.getTime() + 30_000);
    expect(await mfa.verifyTotp(owner, codeNow(secret, later), {}, later)).toMatchObject({ ok: true });
    expect(listed).toBe(before + 1);
  });

  it('refuses the code of an authenticator removed after the list was read', async () => {
    const { owner, secret, id } = await withTotp();
    const known = (await mfa.secondFactorState(owner.id, new Date())).authenticators;
    await repos.authenticators.remove(owner.id, id);
    const now = new Date();
    expect(await mfa.verifyTotp(owner, codeNow(secret, now), {}, now, known)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('reads the authenticators, oldest first, together with the end of a lock', async () => {
    const { owner, id } = await withTotp();
    const tablet = await repos.authenticators.addTotp(
      { accountId: owner.id, label: 'Tablet', secretEnc: box.seal(newTotpSecret(), totpSecretContext(owner.id)), lastUsedStep: -1, source: 'enrolled' },
      { onlyIfNone: false },
    );
    const now = new Date();
    const unlocked = await mfa.secondFactorState(owner.id, now);
    expect(unlocked.authenticators.map((a) => a.id)).toEqual([id, tablet?.id]);
    expect(unlocked.lockedUntil).toBeNull();

    for (let i = 0; i < 5; i++) await mfa.verifyTotp(owner, '000000', {}, now, unlocked.authenticators);
    const locked = await mfa.secondFactorState(owner.id, now);
    expect(locked.authenticators.map((a) => a.id)).toEqual([id, tablet?.id]);
    expect(locked.lockedUntil?.getTime()).toBeGreaterThan(now.getTime());
    // read after the lock has ended
    expect((await mfa.secondFactorState(owner.id, new Date((locked.lockedUntil?.getTime() ?? 0) + 1000))).lockedUntil).toBeNull();
  });

  it('reads an account without authenticators, and an unknown one, as having none and no lock', async () => {
    const account = await repos.accounts.create({ tenantId, email: `known${++n}@example.com`, passwordHash: 'h' });
    expect(await mfa.secondFactorState(account.id, new Date())).toEqual({ authenticators: [], lockedUntil: null });
    expect(await mfa.secondFactorState('00000000-0000-4000-8000-000000000000', new Date())).toEqual({ authenticators: [], lockedUntil: null });
    expect(await mfa.secondFactorState('not-a-uuid', new Date())).toEqual({ authenticators: [], lockedUntil: null });
  });

  it("matches nothing in another account's list", async () => {
    const victim = await withTotp();
    const attacker = await withTotp();
    const now = new Date();
    const otherList = (await mfa.secondFactorState(victim.owner.id, new Date())).authenticators;
    expect(await mfa.verifyTotp(attacker.owner, codeNow(victim.secret, now), {}, now, otherList)).toMatchObject({ ok: false });
  });
});
