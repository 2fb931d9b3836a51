// The password step as a use case with two small fakes (a use case takes only the repositories it needs): no HTTP, no SQL.
import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createPasswordAuthenticator, type LoginThrottle, type PasswordLimits } from '../../../src/domain/authentication.ts';
import { createMarks, createRateLimiter } from '../../../src/http/rate-limit.ts';
import { memoryCounterStore } from '../../helpers/counter-store.ts';
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

/** The real limiter over an in-memory store: counts are shared by every authenticate() of one fake. */
function memoryThrottle(): LoginThrottle {
  const values = new Map<string, unknown>();
  const limiter = createRateLimiter(memoryCounterStore(), { secret: createSecretKey(Buffer.alloc(32, 1)) });
  return {
    limitInTurn: limiter.limitInTurn,
    reset: limiter.reset,
    marks: createMarks({ get: async (k) => values.get(k), set: async (k, v) => void values.set(k, v) }, createSecretKey(Buffer.alloc(32, 2))),
  };
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
  const refusing: LoginThrottle = {
    limitInTurn: async () => [{ allowed: false, retryAfterSeconds: 120 }],
    reset: async () => undefined,
    marks: { has: async () => false, set: async () => undefined },
  };
  const limit = allowed ? memoryThrottle() : refusing;
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

const limits: PasswordLimits = { loginPerIp: 50, loginPerAccountIp: 3, loginPerAccount: 8, windowSeconds: 900, knownNetworkSeconds: 86400 };

describe('password authentication', () => {
  it('returns the account whose password matches', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password')]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), throttle: f.limit, limits, events: f.emitter });
    const outcome = await authenticate('Ada@Example.com ', 'first password', {});
    expect(outcome).toEqual({ ok: true, candidates: [{ id: 'a1', tenantId: 't-Acme', tenantName: 'Acme', tenantSlug: 'acme', email: 'ada@example.com' }] });
  });

  it('answers an unknown email and a wrong password alike (no user enumeration)', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password')]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), throttle: f.limit, limits, events: f.emitter });
    expect(await authenticate('ada@example.com', 'wrong password', {})).toEqual({ ok: false, reason: 'bad_credentials' });
    expect(await authenticate('nobody@example.com', 'first password', {})).toEqual({ ok: false, reason: 'bad_credentials' });
    expect(f.events.map((e) => e.action)).toEqual(['auth.password.failed', 'auth.password.failed']);
  });

  it('lists only the accounts the password opens when one email owns several', async () => {
    const f = fakes([await account('a1', 'Acme', 'shared password'), await account('a2', 'Globex', 'shared password'), await account('a3', 'Initech', 'other password')]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), throttle: f.limit, limits, events: f.emitter });
    const outcome = await authenticate('ada@example.com', 'shared password', {});
    expect(outcome.ok && outcome.candidates.map((c) => c.id).sort()).toEqual(['a1', 'a2']);
  });

  it('never opens a disabled account', async () => {
    const disabled = { ...(await account('a1', 'Acme', 'first password')), status: 'disabled' as const };
    const f = fakes([disabled]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), throttle: f.limit, limits, events: f.emitter });
    expect(await authenticate('ada@example.com', 'first password', {})).toEqual({ ok: false, reason: 'bad_credentials' });
  });

  it('rehashes at sign-in when the argon2id parameters changed', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password', weak)]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(stronger), throttle: f.limit, limits, events: f.emitter });
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
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(stronger), throttle: f.limit, limits, events: f.emitter });
    await authenticate('ada@example.com', 'wrong password', {});
    expect(f.rehashed).toEqual([]);
  });

  it('refuses without checking the password when a limit is reached', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password')], false);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), throttle: f.limit, limits, events: f.emitter });
    expect(await authenticate('ada@example.com', 'first password', { ip: '203.0.113.9' })).toEqual({ ok: false, reason: 'rate_limited', retryAfterSeconds: 120 });
    expect(f.events.map((e) => e.action)).toEqual(['auth.rate_limited']);
  });

  it('refuses from the first network without checking once an IP has spent its attempts, and says so in the audit event', async () => {
    const f = fakes([await account('a1', 'Acme', 'first password')]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), throttle: f.limit, limits: { ...limits, loginPerIp: 2 }, events: f.emitter });
    await authenticate('x@example.com', 'guess', { ip: '203.0.113.9' });
    await authenticate('y@example.com', 'guess', { ip: '203.0.113.9' });
    expect(await authenticate('ada@example.com', 'first password', { ip: '203.0.113.9' })).toMatchObject({ reason: 'rate_limited' });
    expect(f.events.at(-1)).toMatchObject({ action: 'auth.rate_limited', detail: { scope: 'ip' } });
  });
});

describe('password limits count failures, so knowing an email is not enough to keep its owner out', () => {
  const attacker = { ip: '203.0.113.66' };
  const owner = { ip: '198.51.100.4' };

  async function setup() {
    const f = fakes([await account('a1', 'Acme', 'first password')]);
    const authenticate = createPasswordAuthenticator({ accounts: f.repo, hasher: createPasswordHasher(weak), throttle: f.limit, limits, events: f.emitter });
    return { f, authenticate };
  }

  it('wrong passwords from one network stop that network only: the owner elsewhere signs in', async () => {
    const { f, authenticate } = await setup();
    const audited: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      await authenticate('ada@example.com', `guess ${i}`, attacker);
      audited.push(f.events.at(-1)?.action);
    }
    expect(audited).toEqual(['auth.password.failed', 'auth.password.failed', 'auth.password.failed', 'auth.rate_limited', 'auth.rate_limited', 'auth.rate_limited']);
    expect(await authenticate('ada@example.com', 'first password', attacker)).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(await authenticate('ada@example.com', 'first password', owner)).toMatchObject({ ok: true });
  });

  it('parallel guesses from one network are bounded too: at most the limit reach the password check', async () => {
    const { f, authenticate } = await setup();
    await Promise.all(Array.from({ length: 12 }, (_, i) => authenticate('ada@example.com', `guess ${i}`, attacker)));
    expect(f.events.filter((e) => e.action === 'auth.password.failed')).toHaveLength(limits.loginPerAccountIp);
  });

  it('a correct password clears the failures of its network, so a typo or two never add up to a lock', async () => {
    const { authenticate } = await setup();
    for (let round = 0; round < 3; round++) {
      await authenticate('ada@example.com', 'typo', owner);
      await authenticate('ada@example.com', 'typo again', owner);
      expect(await authenticate('ada@example.com', 'first password', owner)).toMatchObject({ ok: true });
    }
  });

  it('guessing spread over many networks meets the per-email ceiling; a network where the owner signed in before still works', async () => {
    const { authenticate } = await setup();
    expect(await authenticate('ada@example.com', 'first password', owner)).toMatchObject({ ok: true });
    // 4 networks × 2 wrong passwords = the ceiling of 8
    for (let n = 1; n <= 4; n++) for (let i = 0; i < 2; i++) await authenticate('ada@example.com', 'guess', { ip: `192.0.2.${n}` });
    expect(await authenticate('ada@example.com', 'first password', { ip: '192.0.2.99' })).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(await authenticate('ada@example.com', 'first password', owner)).toMatchObject({ ok: true });
  });

  it('counts an IPv6 client by its /64: new addresses from one prefix do not buy new attempts', async () => {
    const { authenticate } = await setup();
    for (let i = 1; i <= 3; i++) await authenticate('ada@example.com', 'guess', { ip: `2001:db8:66:1::${i}` });
    expect(await authenticate('ada@example.com', 'first password', { ip: '2001:db8:66:1::ffff' })).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(await authenticate('ada@example.com', 'first password', { ip: '2001:db8:66:2::1' })).toMatchObject({ ok: true });
  });
});
