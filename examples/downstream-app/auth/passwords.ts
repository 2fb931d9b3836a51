/**
 * Local passwords: argon2id with OWASP parameters (m=19 MiB, t=2, p=1). Unknown users are checked
 * against a dummy hash so "no such user" and "wrong password" take the same time.
 */
import argon2 from 'argon2';

const PARAMETERS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

let dummyHash: Promise<string> | undefined;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PARAMETERS);
}

/** True only when `hash` is a hash of `password`; a null hash still costs one verification. */
export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword('acme-mdr-dummy-password');
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
