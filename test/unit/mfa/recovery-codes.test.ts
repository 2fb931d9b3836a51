import { describe, it, expect } from '@jest/globals';
import { createPasswordHasher, type PasswordHasher } from '../../../src/domain/passwords.ts';
import {
  RECOVERY_CODE_COUNT,
  findMatchingRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCodes,
  normaliseRecoveryCode,
} from '../../../src/domain/mfa/recovery-codes.ts';

const hasher = createPasswordHasher({ memoryCost: 8192, timeCost: 2, parallelism: 1 });
const CROCKFORD_LOWER = '0123456789abcdefghjkmnpqrstvwxyz';

describe('recovery code generation', () => {
  it('issues ten codes per account by default (DESIGN.md §9)', () => {
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(generateRecoveryCodes()).toHaveLength(10);
    expect(generateRecoveryCodes(3)).toHaveLength(3);
  });

  it('writes codes as three dash-separated groups of four', () => {
    for (const code of generateRecoveryCodes()) expect(code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
  });

  it('carries 60 bits per code: 12 symbols drawn from a 32-symbol alphabet', () => {
    const symbols = new Set(generateRecoveryCodes(200).join('').replace(/-/g, ''));
    expect(CROCKFORD_LOWER.length).toBe(32);
    expect(12 * Math.log2(CROCKFORD_LOWER.length)).toBeGreaterThanOrEqual(60);
    expect([...symbols].every((s) => CROCKFORD_LOWER.includes(s))).toBe(true);
    expect(symbols.size).toBe(32); // 2,400 draws leave no symbol unused unless the draw is biased
  });

  it('never uses the look-alike letters i, l, o or u', () => {
    expect(generateRecoveryCodes(200).join('')).not.toMatch(/[ilou]/);
  });

  it('does not repeat a code', () => {
    const codes = generateRecoveryCodes(1000);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('recovery code input', () => {
  it.each([
    ['as shown', 'k7m2-9xqf-3bnt'],
    ['in capitals', 'K7M2-9XQF-3BNT'],
    ['with spaces instead of dashes', 'k7m2 9xqf 3bnt'],
    ['run together', 'k7m29xqf3bnt'],
    ['with stray whitespace', '  k7m2 - 9xqf - 3bnt\n'],
  ])('is read the same %s', (_label, input) => {
    expect(normaliseRecoveryCode(input)).toBe('k7m29xqf3bnt');
  });

  it.each([
    ['O for zero', 'k7m2-9xqf-3bnO', 'k7m29xqf3bn0'],
    ['I for one', 'k7m2-9xqf-3bnI', 'k7m29xqf3bn1'],
    ['l for one', 'k7m2-9xqf-3bnl', 'k7m29xqf3bn1'],
  ])('forgives %s', (_label, input, normalised) => {
    expect(normaliseRecoveryCode(input)).toBe(normalised);
  });
});

describe('recovery code storage and use', () => {
  it('stores argon2id hashes, never the code', async () => {
    const codes = generateRecoveryCodes(2);
    const hashes = await hashRecoveryCodes(hasher, codes);
    expect(hashes).toHaveLength(2);
    for (const [i, hash] of hashes.entries()) {
      expect(hash).toMatch(/^\$argon2id\$/);
      expect(hash).not.toContain(normaliseRecoveryCode(codes[i] ?? ''));
    }
  });

  it('finds the code the user typed, however they typed it', async () => {
    const codes = ['k7m2-9xqf-3bnt', 'a1b2-c3d4-e5f6', 'zzzz-yyyy-xxxx'];
    const hashes = await hashRecoveryCodes(hasher, codes);
    const candidates = hashes.map((codeHash, i) => ({ id: `rc${i}`, codeHash }));
    expect(await findMatchingRecoveryCode(hasher, candidates, 'A1B2 C3D4 E5F6')).toBe('rc1');
    expect(await findMatchingRecoveryCode(hasher, candidates, 'zzzzyyyyxxxx')).toBe('rc2');
  });

  it('refuses a code that is not among the unused ones', async () => {
    const candidates = (await hashRecoveryCodes(hasher, ['k7m2-9xqf-3bnt'])).map((codeHash) => ({ id: 'rc0', codeHash }));
    expect(await findMatchingRecoveryCode(hasher, candidates, 'k7m2-9xqf-3bnv')).toBeNull();
    expect(await findMatchingRecoveryCode(hasher, [], 'k7m2-9xqf-3bnt')).toBeNull();
  });

  it('verifies every candidate, so the time taken does not reveal which one matched', async () => {
    const calls: string[] = [];
    const fake: PasswordHasher = {
      hash: async (code) => code,
      verify: async (stored, code) => {
        calls.push(stored ?? '');
        return { ok: stored === code, needsRehash: false };
      },
    };
    const candidates = ['k7m29xqf3bnt', 'a1b2c3d4e5f6', 'zzzzyyyyxxxx'].map((codeHash, i) => ({ id: `rc${i}`, codeHash }));
    expect(await findMatchingRecoveryCode(fake, candidates, 'k7m2-9xqf-3bnt')).toBe('rc0');
    expect(calls).toHaveLength(3);
  });

  it('does not spend hashing work on input that cannot be a code', async () => {
    let verifies = 0;
    const fake: PasswordHasher = {
      hash: async (code) => code,
      verify: async () => {
        verifies += 1;
        return { ok: true, needsRehash: false };
      },
    };
    const candidates = [{ id: 'rc0', codeHash: 'x' }];
    for (const input of ['', 'short', 'k7m2-9xqf-3bn!', 'k7m2-9xqf-3bnt-extra', 'k7m2-9xqf-3bnu']) {
      expect(await findMatchingRecoveryCode(fake, candidates, input)).toBeNull();
    }
    expect(verifies).toBe(0);
  });
});
