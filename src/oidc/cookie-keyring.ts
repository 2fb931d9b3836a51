// Cookie signatures exactly as Keygrip makes them (HMAC-SHA1, base64url without padding), so the
// signed cookies browsers already hold stay valid, but each key is prepared once and a signature is
// checked with one HMAC and a constant-time compare. Keygrip compares through tsscmp, which draws a
// random key and computes two more HMACs under it for every check: several times the cost of the
// signature itself, on every signed cookie of every request.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** What oidc-provider's `cookies.keys` and Koa's `app.keys` accept in place of an array of keys. */
export interface CookieKeyring {
  /** the signature of `data` under the newest key */
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  /** which key signed `data` (0: the newest), or -1 when none did */
  index(data: string, digest: string): number;
}

/** `keys`: newest first, as for Keygrip. */
export function cookieKeyring(keys: readonly string[]): CookieKeyring {
  const prepared = keys.map((k) => createSecretKey(Buffer.from(k, 'utf8')));
  const newest = prepared[0];
  if (!newest) throw new RangeError('a cookie keyring needs at least one key');
  const signWith = (key: KeyObject, data: string) => createHmac('sha1', key).update(data).digest('base64url');
  const index = (data: string, digest: string): number => {
    if (typeof digest !== 'string') return -1;
    const given = Buffer.from(digest);
    for (const [i, key] of prepared.entries()) {
      const expected = Buffer.from(signWith(key, data));
      if (given.length === expected.length && timingSafeEqual(given, expected)) return i;
    }
    return -1;
  };
  return {
    sign: (data) => signWith(newest, data),
    verify: (data, digest) => index(data, digest) > -1,
    index,
  };
}
