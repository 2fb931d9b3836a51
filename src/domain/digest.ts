// Generated secrets (client secrets, one-time links) are stored as SHA-256 digests (DESIGN.md §9):
// at ≥ 256 random bits a plain hash is enough, and comparing digests in constant time is cheap.
import { createHash, timingSafeEqual } from 'node:crypto';

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Whether `presented` hashes to `storedDigest` (hex), compared in constant time. */
export function matchesDigest(presented: string, storedDigest: string): boolean {
  const a = Buffer.from(sha256Hex(presented), 'hex');
  const b = Buffer.from(storedDigest, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
