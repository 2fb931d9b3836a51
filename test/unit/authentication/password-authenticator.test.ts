// The password step as a use case with two small fakes (DESIGN.md §12.2): no HTTP, no SQL.
import { describe, expect, it } from '@jest/globals';
import { createPasswordAuthenticator, type Limit } from '../../../src/domain/authentication.ts';
import { createPasswordHasher, parseArgon2Phc } from '../../../src/domain/passwords.ts';
import type { SecurityEvent, SecurityEvents } from '../../../src/domain/events.ts';

const weak = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
const stronger = { memoryCost: 9216, timeCost: 2, parallelism: 1 };

interface FakeAccount {
  id: string;
  tenantId: string;
  email: string;
  status: 'active' | 'disabled';
  passwordHash: string | null;
  tenant: { name: string; slug: string };
}

function fakes(accounts: FakeAccount[], allowed = true) {
  const events: SecurityEvent[] = [];
  const rehashed: string[] = [];
  const repo = {
    async findByEmail(email: string) {
      return accounts.filter((a) => a.email === email);
    },
    async updatePasswordHash(id: string, hash: string) {
      rehashed.push(id);
      const a = accounts.find((x) => x.id === id);
      if (a) a.passwordHash = hash;
    },
  };
  const limit: Limit = async () => ({ allowed, retryAfterSeconds: allowed ? 0 : 120 });
  const emitter: SecurityEvents = {
    async emit(e) {
      events.push(e);
    },
  };
  return { events, rehashed, repo, limit, emitter };
}

async function account(id: string, tenant: string, password: string, params = weak): Promise<FakeAccount> {
  return { id, tenantId: `t-${tenant}`, email: 'ada@example.com', status: 'active', passwordHash: await createPasswordHasher(params).hash(password), tenant: { name: tenant, slug: tenant.toLowerCase() } };
}

const limits = { loginPerAccount: 5, loginPerIp: 50, windowSeconds: 900 };

describe('password authentication', () => {
  it('returns the account whose password matches', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password')]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), limit: f.limit, limits, events: f.emitter });
    const outcome = await authenticate('Ada@Example.com ', 'first password', {});
    expect(outcome).toEqual({ ok: true, candidates: [{ id: 'a1', tenantId: 't-Acme', tenantName: 'Acme', tenantSlug: 'acme', email: 'ada@example.com' }] });
  });

  it('answers an unknown email and a wrong password alike (no user enumeration)', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password')]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), limit: f.limit, limits, events: f.emitter });
    expect(await authenticate('ada@example.com', 'wrong password', {})).toEqual({ ok: false, reason: 'bad_credentials' });
    expect(await authenticate('nobody@example.com', 'first password', {})).toEqual({ ok: false, reason: 'bad_credentials' });
    expect(f.events.map((e) => e.action)).toEqual(['auth.password.failed', 'auth.password.failed']);
  });

  it('lists only the accounts the password opens when one email owns several', async () => {
    const f = fakes([await account('a1', 'Acme', 'shared password'), await account('a2', 'Globex', 'shared password'), await account('a3', 'Initech', 'other password')]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), limit: f.limit, limits, events: f.emitter });
    const outcome = await authenticate('ada@example.com', 'shared password', {});
    expect(outcome.ok && outcome.candidates.map((c) => c.id).sort()).toEqual(['a1', 'a2']);
  });

  it('never opens a disabled account', async () => {
    const disabled = { ...(await account('a1', 'Acme', 'first password')), status: 'disabled' as const };
    const f = fakes([disabled]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), limit: f.limit, limits, events: f.emitter });
    expect(await authenticate('ada@example.com', 'first password', {})).toEqual({ ok: false, reason: 'bad_credentials' });
  });

  it('rehashes at sign-in when the argon2id parameters changed (DESIGN.md §9)', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password', weak)]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(stronger), limit: f.limit, limits, events: f.emitter });
    expect((await authenticate('ada@example.com', 'first password', {})).ok).toBe(true);
    expect(f.rehashed).toEqual(['a1']);
    const [row] = (await f.repo.findByEmail('ada@example.com')) as FakeAccount[];
    expect(parseArgon2Phc(row?.passwordHash ?? '')).toMatchObject({ id: 'argon2id', memoryCost: 9216, timeCost: 2, parallelism: 1 });
    f.rehashed.length = 0;
    await authenticate('ada@example.com', 'first password', {});
    expect(f.rehashed).toEqual([]);
  });

  it('does not rehash after a failed attempt', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password', weak)]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(stronger), limit: f.limit, limits, events: f.emitter });
    await authenticate('ada@example.com', 'wrong password', {});
    expect(f.rehashed).toEqual([]);
  });

  it('refuses without checking the password when a limit is reached', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password')], false);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), limit: f.limit, limits, events: f.emitter });
    expect(await authenticate('ada@example.com', 'first password', { ip: '203.0.113.9' })).toEqual({ ok: false, reason: 'rate_limited', retryAfterSeconds: 120 });
    expect(f.events.map((e) => e.action)).toEqual(['auth.rate_limited']);
  });
});
