/**
 * Recovery codes: 10 per user, shown once, single use, stored as argon2id hashes; enabling 2FA again
 * replaces them all. Codes look like `k7qm4-x2dnr` (50 random bits, no look-alike characters).
 */
import { randomInt } from 'node:crypto';
import argon2 from 'argon2';
import type { RecoveryCodeRecord } from '../store/types.ts';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const HASH_PARAMETERS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

function randomGroup(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => `${randomGroup(5)}-${randomGroup(5)}`);
}

export function normalizeRecoveryCode(input: string): string {
  return input.trim().toLowerCase().replace(/[\s-]/g, '');
}

export function hashRecoveryCodes(codes: readonly string[]): Promise<string[]> {
  return Promise.all(codes.map((code) => argon2.hash(normalizeRecoveryCode(code), HASH_PARAMETERS)));
}

/** The id of the unused code matching `input`, or undefined. The caller consumes it in the store. */
export async function findRecoveryCode(records: readonly RecoveryCodeRecord[], input: string): Promise<string | undefined> {
  const candidate = normalizeRecoveryCode(input);
  if (candidate.length !== 10) return undefined;
  for (const record of records) {
    if (record.usedAt !== null) continue;
    if (await argon2.verify(record.hash, candidate).catch(() => false)) return record.id;
  }
  return undefined;
}
