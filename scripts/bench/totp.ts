// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) in a few lines of node:crypto, independent of Gatehouse's
// otplib-based implementation, so the bench computes the codes a user's authenticator app would show.
import { createHmac, randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(data: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** A fresh 160-bit secret, as the base32 text an authenticator app is given. */
export const newTotpSecret = (): { base32: string; key: Buffer } => {
  const key = randomBytes(20);
  return { base32: base32Encode(key), key };
};

/** The 6-digit code of `key` at `timeMs` (RFC 4226 dynamic truncation over the 30 s step counter). */
export function totpCode(key: Buffer, timeMs: number = Date.now()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeMs / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
