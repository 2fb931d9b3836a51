// Secrets at rest (TOTP secrets, private keys, upstream client secrets): AES-256-GCM under a key id,
// so the key can be rotated. Sealed form: `v1.<kid>.<iv>.<ciphertext>.<tag>`, base64url parts. The keyring's first
// key seals; every key opens, so a new key can be put in front of an old one and secrets migrate lazily.
import { createCipheriv, createDecipheriv, createHash, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { GatehouseError } from './errors.ts';

interface RingKey {
  kid: string;
  key: Buffer;
}

export interface SecretBox {
  seal(plaintext: string | Buffer, context?: string): string;
  open(sealed: string, context?: string): Buffer;
  openText(sealed: string, context?: string): string;
  /**
   * A 32-byte key for another use (e.g. keying rate-limit counters), derived with HKDF-SHA256 from the
   * newest key and `purpose`, so it is as secret as the key and no two uses share key material. A
   * KeyObject: an HMAC keyed with one is prepared once, where a Buffer key is copied into a new key on
   * every HMAC (several times slower on Node 24).
   */
  deriveKey(purpose: string): KeyObject;
  readonly currentKid: string;
}

/** GCM tags are 16 bytes; a shorter one would be accepted by Node unless the length is pinned. */
const TAG_BYTES = 16;

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/** Parses `GATEHOUSE_SECRET_KEY` (comma-separated base64 32-byte keys, newest first). */
export function parseKeyring(value: string): Buffer[] {
  const keys = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => Buffer.from(s, 'base64'));
  if (keys.length === 0 || keys.some((k) => k.length !== 32)) {
    throw new GatehouseError('invalid_secret_key', 500, 'GATEHOUSE_SECRET_KEY must be base64 of 32 random bytes (comma-separated for rotation)');
  }
  return keys;
}

export function createSecretBox(keys: Buffer[]): SecretBox {
  const ring: RingKey[] = keys.map((key) => ({ kid: keyId(key), key }));
  const current = ring[0];
  if (!current) throw new GatehouseError('invalid_secret_key', 500, 'no secret key configured');
  const byKid = new Map(ring.map((k) => [k.kid, k]));

  const open = (sealed: string, context = ''): Buffer => {
    const [version, kid, iv, ct, tag] = sealed.split('.');
    const key = kid ? byKid.get(kid) : undefined;
    if (version !== 'v1' || !key || !iv || ct === undefined || !tag) {
      throw new GatehouseError('secret_unreadable', 500, 'a stored secret cannot be decrypted', `kid ${kid ?? '?'}`);
    }
    try {
      // Pinning the tag length refuses truncated tags: a 4-byte prefix of a real tag would otherwise
      // pass, and forging one takes about 2^32 tries instead of 2^128.
      const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    } catch (e) {
      // Tampered ciphertext, a wrong context or a truncated tag all end here.
      throw new GatehouseError('secret_unreadable', 500, 'a stored secret cannot be decrypted', `kid ${kid}: ${(e as Error).message}`);
    }
  };

  return {
    currentKid: current.kid,
    seal(plaintext, context = '') {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context));
      const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return ['v1', current.kid, iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open,
    openText: (sealed, context) => open(sealed, context).toString('utf8'),
    deriveKey: (purpose) => createSecretKey(Buffer.from(hkdfSync('sha256', current.key, Buffer.alloc(0), `gatehouse:${purpose}`, 32))),
  };
}

export const generateSecretKey = () => randomBytes(32).toString('base64');
