import { describe, it, expect } from '@jest/globals';
import { GatehouseError } from '../../../src/domain/errors.ts';
import { createSecretBox, generateSecretKey, parseKeyring } from '../../../src/domain/secrets.ts';

const key = () => Buffer.from(generateSecretKey(), 'base64');

// Flips one bit of the base64url part at `index` of `v1.<kid>.<iv>.<ciphertext>.<tag>`.
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('secrets at rest: AES-256-GCM with a key id', () => {
  it('round-trips text and bytes', () => {
    const box = createSecretBox([key()]);
    expect(box.openText(box.seal('JBSWY3DPEHPK3PXP', 'totp:acc-1'), 'totp:acc-1')).toBe('JBSWY3DPEHPK3PXP');
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(box.open(box.seal(bytes))).toEqual(bytes);
  });

  it('names the sealing key id in the sealed form and does not show the plaintext', () => {
    const box = createSecretBox([key()]);
    const sealed = box.seal('JBSWY3DPEHPK3PXP');
    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed.split('.')[1]).toBe(box.currentKid);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
  });

  it('uses a fresh IV each time, so equal secrets do not look equal', () => {
    const box = createSecretBox([key()]);
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it.each([
    ['the IV', 2],
    ['the ciphertext', 3],
    ['the authentication tag', 4],
  ])('detects tampering with %s', (_part, index) => {
    const box = createSecretBox([key()]);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'totp:acc-1');
    expect(() => box.open(tamper(sealed, index), 'totp:acc-1')).toThrow(GatehouseError);
  });

  it.each([4, 8, 12, 15])('refuses an authentication tag truncated to %i bytes (GCM tags are 16 bytes; a short prefix is forgeable)', (bytes) => {
    const box = createSecretBox([key()]);
    const parts = box.seal('JBSWY3DPEHPK3PXP', 'totp:acc-1').split('.');
    parts[4] = Buffer.from(parts[4] ?? '', 'base64url').subarray(0, bytes).toString('base64url');
    expect(() => box.open(parts.join('.'), 'totp:acc-1')).toThrow(GatehouseError);
  });

  it('derives a distinct, stable key per purpose from the newest key, never the key itself', () => {
    const k = key();
    const box = createSecretBox([k, key()]);
    // a prepared secret KeyObject; its bytes are compared (two KeyObjects look alike to toEqual)
    const bytes = (purpose: string, b = box) => b.deriveKey(purpose).export();
    expect(box.deriveKey('rate-limit').type).toBe('secret');
    expect(bytes('rate-limit')).toHaveLength(32);
    expect(bytes('rate-limit')).toEqual(bytes('rate-limit', createSecretBox([k])));
    expect(bytes('rate-limit')).not.toEqual(bytes('other'));
    expect(bytes('rate-limit')).not.toEqual(k);
    expect(bytes('rate-limit', createSecretBox([key()]))).not.toEqual(bytes('rate-limit'));
  });

  it('refuses to open a secret under another context (a TOTP secret moved to another account)', () => {
    const box = createSecretBox([key()]);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'totp:acc-1');
    expect(() => box.open(sealed, 'totp:acc-2')).toThrow(GatehouseError);
    expect(() => box.open(sealed)).toThrow(GatehouseError);
  });

  it('opens secrets sealed under an older key still in the ring, and seals new ones under the newest', () => {
    const oldKey = key();
    const newKey = key();
    const sealedBefore = createSecretBox([oldKey]).seal('legacy secret');
    const rotated = createSecretBox([newKey, oldKey]);
    expect(rotated.openText(sealedBefore)).toBe('legacy secret');
    expect(rotated.seal('x').split('.')[1]).toBe(createSecretBox([newKey]).currentKid);
    expect(rotated.currentKid).not.toBe(createSecretBox([oldKey]).currentKid);
  });

  it('refuses a secret sealed under a key that left the ring, with a Gatehouse error', () => {
    const sealed = createSecretBox([key()]).seal('gone');
    expect(() => createSecretBox([key()]).open(sealed)).toThrow(GatehouseError);
  });

  it('refuses a string that is not a sealed secret', () => {
    const box = createSecretBox([key()]);
    expect(() => box.open('JBSWY3DPEHPK3PXP')).toThrow(GatehouseError);
    expect(() => box.open(`v2.${box.currentKid}.a.b.c`)).toThrow(GatehouseError);
  });
});

describe('GATEHOUSE_SECRET_KEY parsing', () => {
  it('reads comma-separated base64 keys, newest first', () => {
    const [a, b] = [generateSecretKey(), generateSecretKey()];
    expect(parseKeyring(` ${a} , ${b} `)).toEqual([Buffer.from(a, 'base64'), Buffer.from(b, 'base64')]);
  });

  it.each([
    ['empty', ''],
    ['a short key', Buffer.alloc(16).toString('base64')],
    ['a placeholder', 'change-me'],
  ])('refuses %s', (_label, value) => {
    expect(() => parseKeyring(value)).toThrow(/GATEHOUSE_SECRET_KEY must be base64 of 32 random bytes/);
  });
});
