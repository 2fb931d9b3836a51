// The cookie keyring signs exactly as Keygrip (the reference here), so cookies signed before it
// replaced Keygrip still verify, and it refuses what Keygrip refuses.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import Keygrip from 'keygrip';
import { cookieKeyring } from '../../../src/oidc/cookie-keyring.ts';

const newKey = () => randomBytes(24).toString('base64url');
const values = ['_session=abc', '_interaction=Kd3_x-9', 'gh_csrf=' + 'x'.repeat(300), 'name=välue ✓', ''];

describe('cookieKeyring', () => {
  it('makes the same signatures as Keygrip, and each accepts the other', () => {
    const keys = [newKey(), newKey()];
    const ours = cookieKeyring(keys);
    const reference = new Keygrip(keys);
    for (const data of values) {
      expect(ours.sign(data)).toBe(reference.sign(data));
      expect(ours.index(data, reference.sign(data))).toBe(0);
      expect(reference.index(data, ours.sign(data))).toBe(0);
    }
  });

  it('names the key that signed (0 = newest) and accepts a signature of an older key', () => {
    const [older, newer] = [newKey(), newKey()];
    const signedBefore = cookieKeyring([older]).sign('_session=abc');
    const rotated = cookieKeyring([newer, older]);
    expect(rotated.index('_session=abc', signedBefore)).toBe(1);
    expect(rotated.verify('_session=abc', signedBefore)).toBe(true);
    expect(rotated.sign('_session=abc')).not.toBe(signedBefore);
  });

  it('refuses a signature of another key, of other data, cut, extended or missing', () => {
    const ring = cookieKeyring([newKey()]);
    const good = ring.sign('_session=abc');
    expect(ring.verify('_session=abc', cookieKeyring([newKey()]).sign('_session=abc'))).toBe(false);
    expect(ring.verify('_session=abd', good)).toBe(false);
    expect(ring.verify('_session=abc', good.slice(0, -1))).toBe(false);
    expect(ring.verify('_session=abc', `${good}A`)).toBe(false);
    expect(ring.verify('_session=abc', '')).toBe(false);
    expect(ring.index('_session=abc', undefined as unknown as string)).toBe(-1);
    expect(ring.verify('_session=abc', good)).toBe(true);
  });

  it('needs a key', () => {
    expect(() => cookieKeyring([])).toThrow(RangeError);
  });
});
