import { describe, it, expect } from '@jest/globals';
import { generateSync } from 'otplib';
import { generateTotpSecret, matchTotpStep, parseBase32Secret, totpStep } from '../../../src/domain/mfa/totp.ts';
import { base32Decode, base32Encode, referenceTotp } from '../../helpers/totp-reference.ts';

// RFC 6238 appendix B uses the ASCII seed "12345678901234567890" for SHA-1 and prints 8-digit codes.
const RFC_SEED_BASE32 = base32Encode(Buffer.from('12345678901234567890'));
const RFC_6238_APPENDIX_B_SHA1: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

const at = (seconds: number) => new Date(seconds * 1000);

describe('TOTP codes (RFC 6238 appendix B, SHA-1)', () => {
  it('the RFC seed round-trips through the test base32 helper', () => {
    expect(RFC_SEED_BASE32).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(base32Decode(RFC_SEED_BASE32).toString('ascii')).toBe('12345678901234567890');
  });

  it.each(RFC_6238_APPENDIX_B_SHA1)('at T=%d the independent reference gives %s', (time, code) => {
    expect(referenceTotp(RFC_SEED_BASE32, time, { digits: 8 })).toBe(code);
  });

  it.each(RFC_6238_APPENDIX_B_SHA1)('at T=%d otplib gives %s', (time, code) => {
    expect(generateSync({ secret: RFC_SEED_BASE32, epoch: time, digits: 8 })).toBe(code);
  });

  it.each(RFC_6238_APPENDIX_B_SHA1)('at T=%d matchTotpStep accepts the 6-digit code %s ends with and returns the step', (time, code) => {
    expect(matchTotpStep(RFC_SEED_BASE32, code.slice(-6), at(time))).toBe(Math.floor(time / 30));
  });
});

describe('TOTP time steps', () => {
  it.each([
    [0, 0],
    [29.999, 0],
    [30, 1],
    [59, 1],
    [1111111109, 37037036],
  ])('second %d is in step %d (30 s period)', (seconds, step) => {
    expect(totpStep(at(seconds))).toBe(step);
  });
});

describe('TOTP verification window (±1 step, RFC 6238 §5.2)', () => {
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  const now = at(1_700_000_015); // mid-step
  const step = totpStep(now);
  const codeAtStep = (s: number) => referenceTotp(secret, s * 30);

  it('the fixed secret has distinct codes across the steps under test', () => {
    const codes = [-2, -1, 0, 1, 2].map((offset) => codeAtStep(step + offset));
    expect(new Set(codes).size).toBe(5);
  });

  it.each([
    ['the current step', 0],
    ['the previous step (clock behind or slow typing)', -1],
    ['the next step (clock ahead)', 1],
  ])('accepts a code from %s and returns that step', (_label, offset) => {
    expect(matchTotpStep(secret, codeAtStep(step + offset), now)).toBe(step + offset);
  });

  it.each([
    ['two steps ago', -2],
    ['two steps ahead', 2],
    ['an hour ago', -120],
  ])('refuses a code from %s', (_label, offset) => {
    expect(matchTotpStep(secret, codeAtStep(step + offset), now)).toBeNull();
  });

  it('returns the matched step, not the current one, so a replay of the same code is caught by the step compare-and-set', () => {
    const justBeforeBoundary = at((step + 1) * 30 - 1);
    expect(matchTotpStep(secret, codeAtStep(step), justBeforeBoundary)).toBe(step);
    expect(matchTotpStep(secret, codeAtStep(step), at((step + 1) * 30 + 1))).toBe(step);
  });

  it('accepts a code typed with spaces', () => {
    const code = codeAtStep(step);
    expect(matchTotpStep(secret, ` ${code.slice(0, 3)} ${code.slice(3)} `, now)).toBe(step);
  });

  it.each([
    ['empty', ''],
    ['five digits', '12345'],
    ['seven digits', '1234567'],
    ['a letter', '12345a'],
    ['a sign', '-12345'],
    ['non-ASCII digits', '١٢٣٤٥٦'],
    ['a decimal point', '1234.5'],
  ])('refuses a malformed code (%s)', (_label, code) => {
    expect(matchTotpStep(secret, code, now)).toBeNull();
  });

  it('refuses the eight-digit form of a valid code', () => {
    expect(matchTotpStep(secret, referenceTotp(secret, step * 30, { digits: 8 }), now)).toBeNull();
  });
});

describe('TOTP secrets', () => {
  it('are 160 random bits in unpadded base32', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(secret)).toHaveLength(20);
    expect(generateTotpSecret()).not.toBe(secret);
  });

  it('are accepted unchanged by the setup-key parser', () => {
    const secret = generateTotpSecret();
    expect(parseBase32Secret(secret)).toBe(secret);
  });

  it('agree with the independent reference for a generated secret', () => {
    const secret = generateTotpSecret();
    const now = at(1_800_000_000);
    expect(matchTotpStep(secret, referenceTotp(secret, 1_800_000_000), now)).toBe(totpStep(now));
  });
});
