import { describe, it, expect } from '@jest/globals';
import { GatehouseError } from '../../../src/domain/errors.ts';
import { validateNewPassword } from '../../../src/domain/passwords.ts';

describe('choosing a new password (length rules, NIST SP 800-63B)', () => {
  it.each([
    ['eight characters', '12345678'],
    ['a passphrase with spaces', 'correct horse battery staple'],
    ['256 characters', 'a'.repeat(256)],
    ['eight characters outside the BMP, counted as characters', '🔑'.repeat(8)],
    ['spaces around other characters', '   pass   '],
  ])('accepts %s', (_label, password) => {
    expect(() => validateNewPassword(password)).not.toThrow();
  });

  it.each([
    ['empty', '', /at least 8 characters/],
    ['seven characters', '1234567', /at least 8 characters/],
    ['257 characters', 'a'.repeat(257), /at most 256 characters/],
    ['only spaces', ' '.repeat(12), /only spaces/],
    ['only whitespace of various kinds', ' \t \n \u00a0 \u2003  ', /only spaces/],
  ])('refuses %s with a sentence saying why', (_label, password, message) => {
    let error: unknown;
    try {
      validateNewPassword(password);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ status: 400, code: 'weak_password', message: expect.stringMatching(message) });
  });
});
