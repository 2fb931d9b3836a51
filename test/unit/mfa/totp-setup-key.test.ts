import { describe, it, expect } from '@jest/globals';
import { GatehouseError } from '../../../src/domain/errors.ts';
import { formatSetupKey, parseBase32Secret, totpUri } from '../../../src/domain/mfa/totp.ts';

describe('typed or pasted setup keys', () => {
  it.each([
    ['as generated', 'JBSWY3DPEHPK3PXP', 'JBSWY3DPEHPK3PXP'],
    ['in lower case with spaces', 'jbsw y3dp ehpk 3pxp', 'JBSWY3DPEHPK3PXP'],
    ['with base32 padding', 'jbswy3dpehpk3pxpaa======', 'JBSWY3DPEHPK3PXPAA'],
    ['with a tab and a newline', 'JBSWY3DP\tEHPK3PXP\n', 'JBSWY3DPEHPK3PXP'],
  ])('are accepted %s', (_label, input, normalised) => {
    expect(parseBase32Secret(input)).toBe(normalised);
  });

  it.each([
    ['empty', '   ', /Enter the setup key/],
    ['with characters outside the base32 alphabet', 'JBSWY3DPEHPK3PX1', /only the letters A–Z and the digits 2–7/],
    ['shorter than 80 bits', 'JBSWY3DPEHPK3PX', /too short: it must hold at least 80 bits/],
    ['with a length no byte string encodes to', 'JBSWY3DPEHPK3PXPA', /a character is missing, extra or mistyped/],
    ['with padding in the middle', 'JBSW=Y3DPEHPK3PXP', /only the letters/],
    ['longer than 512 bits', 'A'.repeat(104), /too long/],
  ])('are refused when %s, with a sentence saying why', (_label, input, message) => {
    let error: unknown;
    try {
      parseBase32Secret(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ status: 400, message: expect.stringMatching(message) });
  });
});

describe('setup key display', () => {
  it('groups the key by four characters', () => {
    expect(formatSetupKey('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(formatSetupKey('JBSWY3DPEHPK3PXPAA')).toBe('JBSW Y3DP EHPK 3PXP AA');
  });
});

describe('otpauth URI (Key Uri Format)', () => {
  it('names issuer and account in the label and spells out every parameter', () => {
    expect(totpUri({ issuer: 'Gatehouse', label: 'ana@example.com', secret: 'JBSWY3DPEHPK3PXP' })).toBe(
      'otpauth://totp/Gatehouse:ana%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30',
    );
  });

  it('percent-encodes spaces, ampersands and colons so the label and issuer survive', () => {
    const uri = totpUri({ issuer: 'Acme & Co: EU', label: 'Ana María:ops', secret: 'JBSWY3DPEHPK3PXP' });
    expect(uri).toMatch(/^otpauth:\/\/totp\/Acme%20%26%20Co%3A%20EU:Ana%20Mar%C3%ADa%3Aops\?/);
    expect(uri).not.toContain('+');
    const url = new URL(uri);
    expect(url.searchParams.get('issuer')).toBe('Acme & Co: EU');
    expect(url.searchParams.get('secret')).toBe('JBSWY3DPEHPK3PXP');
  });
});
