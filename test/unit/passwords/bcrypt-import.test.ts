// Imported bcrypt hashes (issue 14): checked at sign-in and reported as needing a rehash, so the
// sign-in replaces them with argon2id; only argon2id and bcrypt are importable as they are.
import { describe, it, expect } from '@jest/globals';
import bcrypt from 'bcryptjs';
import { createPasswordHasher, importableHashKind } from '../../../src/domain/passwords.ts';

const hasher = createPasswordHasher({ memoryCost: 8192, timeCost: 2, parallelism: 1 });

describe('bcrypt hashes from another platform', () => {
  const stored = bcrypt.hashSync('imported password', 4);

  it('accepts the right password and asks for an argon2id rehash', async () => {
    expect(await hasher.verify(stored, 'imported password')).toEqual({ ok: true, needsRehash: true });
  });

  it('refuses a wrong password without asking for a rehash', async () => {
    expect(await hasher.verify(stored, 'imported passwore')).toEqual({ ok: false, needsRehash: false });
  });

  it('accepts the $2a$, $2b$ and $2y$ prefixes and refuses other hash formats for import', async () => {
    expect(importableHashKind(stored)).toBe('bcrypt');
    expect(importableHashKind(stored.replace(/^\$2b\$/, '$2a$'))).toBe('bcrypt');
    expect(importableHashKind(stored.replace(/^\$2b\$/, '$2y$'))).toBe('bcrypt');
    expect(importableHashKind(await hasher.hash('x'))).toBe('argon2id');
    expect(importableHashKind('$argon2i$v=19$m=8192,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBeNull();
    expect(importableHashKind('5f4dcc3b5aa765d61d8327deb882cf99')).toBeNull();
    expect(importableHashKind(`${stored}x`)).toBeNull();
  });
});
