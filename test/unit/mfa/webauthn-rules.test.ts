// The pure rules of passkeys (src/domain/mfa/webauthn-rules.ts): the signature-counter rule of
// WebAuthn §6.1.1 (a counter that does not grow means a cloned authenticator), hwk vs swk, and labels.
import { describe, expect, it } from '@jest/globals';
import { signCountVerdict, webauthnKeyKind, webauthnLabel, type SignCountVerdict } from '../../../src/domain/mfa/webauthn-rules.ts';

describe('signature counter (WebAuthn §6.1.1, cloned authenticators)', () => {
  it.each<[string, number, number, SignCountVerdict]>([
    ['an authenticator that does not count (0 then 0) is accepted', 0, 0, 'not_counting'],
    ['the first count after registration at 0', 0, 1, 'advanced'],
    ['a count that grows by one', 7, 8, 'advanced'],
    ['a count that jumps ahead (a global counter also counts signatures for other sites)', 7, 500, 'advanced'],
    ['the same count twice: a copy of the key signed → refused', 8, 8, 'regressed'],
    ['a smaller count → refused', 8, 3, 'regressed'],
    ['a counting authenticator that falls back to 0 → refused', 8, 0, 'regressed'],
  ])('%s', (_rule, stored, received, verdict) => {
    expect(signCountVerdict(stored, received)).toBe(verdict);
  });
});

describe('hwk or swk (docs/passkeys.md)', () => {
  it('a credential that is not backed up stays in its authenticator: hwk', () => {
    expect(webauthnKeyKind({ backedUp: false })).toBe('hwk');
  });
  it('a backed-up (synced) passkey is a key held in software: swk', () => {
    expect(webauthnKeyKind({ backedUp: true })).toBe('swk');
  });
});

describe('the label of a new passkey', () => {
  it.each<[string, Parameters<typeof webauthnLabel>[0], string]>([
    ['what the user typed wins', { typed: '  Work laptop ', aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd', transports: ['internal'] }, 'Work laptop'],
    ['a known AAGUID gives the model name', { aaguid: 'FBFC3007-154E-4ECC-8C0B-6E020557D7BD', transports: ['internal', 'hybrid'] }, 'iCloud Keychain'],
    ['a known security key', { typed: '', aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8', transports: ['usb'] }, 'YubiKey 5 Series'],
    ['unknown, USB/NFC only → Security key', { aaguid: '00000000-0000-0000-0000-000000000000', transports: ['usb', 'nfc'] }, 'Security key'],
    ['unknown, built in → Passkey', { aaguid: '00000000-0000-0000-0000-000000000000', transports: ['internal'] }, 'Passkey'],
    ['unknown, no transports reported → Passkey', { aaguid: '00000000-0000-0000-0000-000000000000', transports: [] }, 'Passkey'],
  ])('%s', (_rule, input, label) => {
    expect(webauthnLabel(input)).toBe(label);
  });

  it('keeps a typed label to 100 characters', () => {
    expect(webauthnLabel({ typed: 'x'.repeat(300), aaguid: '', transports: [] })).toHaveLength(100);
  });
});
