// Password hashing (DESIGN.md §9): argon2id with configurable cost, rehash on login when the cost
// changes, and the same work for an unknown email as for a wrong password. bcrypt hashes imported
// from another platform are checked too, and replaced by argon2id at the first correct sign-in.
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import type { HashOptions } from 'argon2';
import { badRequest } from './errors.ts';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordCheck {
  ok: boolean;
  needsRehash: boolean;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** `storedHash` null means "no such account": the answer is no, after the same work as a real check. */
  verify(storedHash: string | null, password: string): Promise<PasswordCheck>;
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

const ARGON2_VERSION = 0x13;

// NIST SP 800-63B §5.1.1.2: normalise Unicode so the same password typed on two keyboards matches.
const normalise = (password: string) => password.normalize('NFKC');

export function createPasswordHasher(params: Argon2Params): PasswordHasher {
  const options: HashOptions = { type: argon2.argon2id, ...params };
  const hash = (password: string) => argon2.hash(normalise(password), options);

  const dummyHash = hash(randomBytes(32).toString('base64url'));
  // Kept for later awaits; this only stops an early failure from being reported as unhandled.
  dummyHash.catch(() => undefined);

  return {
    hash,
    async verify(storedHash, password) {
      if (storedHash !== null && isBcryptHash(storedHash)) {
        // The other platform hashed the password as typed, without our Unicode normalisation.
        const ok = await bcrypt.compare(password, storedHash);
        return { ok, needsRehash: ok };
      }
      if (storedHash === null || !isArgon2Hash(storedHash)) {
        await argon2.verify(await dummyHash, normalise(password));
        return { ok: false, needsRehash: false };
      }
      const ok = await argon2.verify(storedHash, normalise(password));
      return { ok, needsRehash: ok && hashNeedsRehash(storedHash, params) };
    },
  };
}

interface PhcParams extends Argon2Params {
  id: string;
  version: number;
}

/**
 * Reads `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`; null when the string is not that shape. The
 * parameters are read by name: node-argon2 writes them as `m=…,p=…,t=…`, other libraries as `m,t,p`.
 */
export function parseArgon2Phc(phc: string): PhcParams | null {
  const b64 = '[A-Za-z0-9+/]+';
  const shape = new RegExp(`^\\$(argon2id|argon2i|argon2d)\\$v=(\\d+)\\$([a-z]+=${b64}(?:,[a-z]+=${b64})*)\\$${b64}\\$${b64}$`);
  const match = shape.exec(phc);
  if (!match) return null;
  const [, id = '', version, list = ''] = match;
  const params: Record<string, string | undefined> = Object.fromEntries(list.split(',').map((pair) => pair.split('=')));
  const int = (value: string | undefined) => (value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : null);
  const [memoryCost, timeCost, parallelism] = [int(params.m), int(params.t), int(params.p)];
  if (memoryCost == null || timeCost == null || parallelism == null) return null;
  return { id, version: Number(version), memoryCost, timeCost, parallelism };
}

const isArgon2Hash = (phc: string) => parseArgon2Phc(phc) !== null;

/** `$2a$`, `$2b$` or `$2y$`, a two-digit cost (4–31), then 22 characters of salt and 31 of hash. */
export const isBcryptHash = (hash: string) => /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/.test(hash);

/** A hash a bulk import may store as is: argon2id (PHC string) or bcrypt (upgraded at the next sign-in). */
export function importableHashKind(hash: string): 'argon2id' | 'bcrypt' | null {
  if (parseArgon2Phc(hash)?.id === 'argon2id') return 'argon2id';
  return isBcryptHash(hash) ? 'bcrypt' : null;
}

export function hashNeedsRehash(phc: string, params: Argon2Params): boolean {
  const stored = parseArgon2Phc(phc);
  if (!stored) return true;
  return (
    stored.id !== 'argon2id' ||
    stored.version !== ARGON2_VERSION ||
    stored.memoryCost !== params.memoryCost ||
    stored.timeCost !== params.timeCost ||
    stored.parallelism !== params.parallelism
  );
}

/** Rules for a password someone chooses (NIST SP 800-63B: length, not composition). */
export function validateNewPassword(password: string): void {
  const length = [...normalise(password)].length;
  if (length < MIN_PASSWORD_LENGTH) throw badRequest(`Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`, 'weak_password');
  if (length > MAX_PASSWORD_LENGTH) throw badRequest(`Choose a password of at most ${MAX_PASSWORD_LENGTH} characters.`, 'weak_password');
  if (password.trim() === '') throw badRequest('A password cannot be only spaces.', 'weak_password');
}
