// Recovery codes (DESIGN.md §9): 10 per account, shown once, stored as argon2id hashes, single use.
// Codes use Crockford's base32 in lower case (no i, l, o, u), so a code read aloud or copied by hand
// survives: on input, o is read as 0 and i/l as 1.
import { randomBytes } from 'node:crypto';
import type { PasswordHasher } from '../passwords.ts';

export const RECOVERY_CODE_COUNT = 10;

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUPS = 3;
const GROUP_LENGTH = 4;
const CODE_LENGTH = GROUPS * GROUP_LENGTH; // 12 characters × 5 bits = 60 bits
const CANONICAL = new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`);

type Hasher = Pick<PasswordHasher, 'hash' | 'verify'>;

/** Codes as shown to the user: `k7m2-9xqf-3bnt`. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, generateRecoveryCode);
}

function generateRecoveryCode(): string {
  // 32 symbols: the low 5 bits of a random byte pick one without bias.
  const chars = [...randomBytes(CODE_LENGTH)].map((byte) => ALPHABET[byte & 31]).join('');
  return (chars.match(new RegExp(`.{${GROUP_LENGTH}}`, 'g')) ?? []).join('-');
}

/** The canonical form that is hashed and compared: lower case, no spaces or dashes, o→0, i/l→1. */
export function normaliseRecoveryCode(input: string): string {
  return input
    .toLowerCase()
    .replace(/[\s-]+/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1');
}

export function hashRecoveryCodes(hasher: Hasher, codes: readonly string[]): Promise<string[]> {
  return Promise.all(codes.map((code) => hasher.hash(normaliseRecoveryCode(code))));
}

/**
 * The id of the unused code that `input` matches, or null. Every candidate is verified, so the time
 * taken does not say which one matched; the caller then marks it used with an atomic update.
 */
export async function findMatchingRecoveryCode(
  hasher: Hasher,
  candidates: readonly { id: string; codeHash: string }[],
  input: string,
): Promise<string | null> {
  const code = normaliseRecoveryCode(input);
  if (!CANONICAL.test(code)) return null;
  const checks = await Promise.all(candidates.map((c) => hasher.verify(c.codeHash, code)));
  const index = checks.findIndex((check) => check.ok);
  return index < 0 ? null : (candidates[index]?.id ?? null);
}
