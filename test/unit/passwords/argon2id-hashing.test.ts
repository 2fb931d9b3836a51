import { describe, it, expect } from '@jest/globals';
import { createPasswordHasher, hashNeedsRehash, parseArgon2Phc } from '../../../src/domain/passwords.ts';

// Small memory keeps the suite fast; one test uses the production parameters of DESIGN.md §9.
const fast = { memoryCost: 8192, timeCost: 2, parallelism: 1 };
const hasher = createPasswordHasher(fast);

describe('password hashing with argon2id', () => {
  it('stores the OWASP parameters m=19456 (19 MiB), t=2, p=1 in the PHC string (DESIGN.md §9)', async () => {
    const owasp = createPasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const hash = await owasp.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(parseArgon2Phc(hash)).toEqual({ id: 'argon2id', version: 0x13, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('salts every hash', async () => {
    expect(await hasher.hash('same password')).not.toBe(await hasher.hash('same password'));
  });

  it('accepts the right password', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(hash, 'correct horse battery staple')).toEqual({ ok: true, needsRehash: false });
  });

  it('refuses a wrong password', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(hash, 'correct horse battery stapler')).toEqual({ ok: false, needsRehash: false });
  });

  it('matches a password typed in another Unicode normal form (NIST SP 800-63B §5.1.1.2)', async () => {
    const composed = 'caf\u00e9-ångström';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect((await hasher.verify(await hasher.hash(composed), decomposed)).ok).toBe(true);
  });
});

describe('unknown email (no stored hash)', () => {
  it('is refused', async () => {
    expect(await hasher.verify(null, 'anything at all')).toEqual({ ok: false, needsRehash: false });
  });

  it('costs an argon2 verification like a wrong password does, so timing does not reveal the account', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    await hasher.verify(null, 'warm-up');
    const time = async (stored: string | null) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 5; i += 1) await hasher.verify(stored, 'wrong password');
      return Number(process.hrtime.bigint() - start);
    };
    const wrongPassword = await time(hash);
    const unknownEmail = await time(null);
    // Loose bounds against a busy machine: a skipped verification would be ~1000× faster.
    expect(unknownEmail).toBeGreaterThan(wrongPassword / 5);
    expect(unknownEmail).toBeLessThan(wrongPassword * 5);
  });

  it('is also how an unreadable stored hash is treated', async () => {
    expect(await hasher.verify('$2b$10$not-an-argon2-hash', 'password')).toEqual({ ok: false, needsRehash: false });
  });
});

describe('rehash on login when parameters change (DESIGN.md §9)', () => {
  it.each([
    ['memory cost raised', { ...fast, memoryCost: 9216 }],
    ['time cost raised', { ...fast, timeCost: 3 }],
    ['parallelism changed', { ...fast, parallelism: 2 }],
  ])('asks for a rehash after a successful check when the %s', async (_label, newParams) => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(await createPasswordHasher(newParams).verify(stored, 'correct horse battery staple')).toEqual({ ok: true, needsRehash: true });
  });

  it('does not ask for a rehash after a failed check (the password is needed to rehash)', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(await createPasswordHasher({ ...fast, timeCost: 3 }).verify(stored, 'wrong')).toEqual({ ok: false, needsRehash: false });
  });

  it.each([
    ['same parameters', '$argon2id$v=19$m=8192,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo', false],
    ['same parameters in node-argon2 order', '$argon2id$v=19$m=8192,p=1,t=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo', false],
    ['lower memory', '$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo', true],
    ['argon2i instead of argon2id', '$argon2i$v=19$m=8192,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo', true],
    ['argon2 version 1.0', '$argon2id$v=16$m=8192,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo', true],
    ['not an argon2 hash', '$2b$10$abcdefghijklmnopqrstuv', true],
  ])('hashNeedsRehash: %s → %s', (_label, phc, expected) => {
    expect(hashNeedsRehash(phc, fast)).toBe(expected);
  });
});
