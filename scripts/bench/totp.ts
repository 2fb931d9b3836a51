// The bench computes the codes a user's authenticator app would show with the same independent
// RFC 6238 implementation the tests use (node:crypto HMAC, not Gatehouse's otplib-based code).
import { randomBytes } from 'node:crypto';
import { base32Encode, referenceHotp } from '../../test/helpers/totp-reference.ts';

/** A fresh 160-bit secret, as the base32 text an authenticator app is given. */
export const newTotpSecret = (): { base32: string; key: Buffer } => {
  const key = randomBytes(20);
  return { base32: base32Encode(key), key };
};

/** The 6-digit code of `key` at `timeMs` (SHA-1, 30 s steps). */
export const totpCode = (key: Buffer, timeMs: number = Date.now()): string => referenceHotp(key, Math.floor(timeMs / 1000 / 30));
