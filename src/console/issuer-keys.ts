// Gatehouse's own published signing keys, for checking tokens it issued (the consoles' ID tokens, the
// API's access tokens) inside the same process: read from the key store, not fetched over HTTP, and
// re-read when a token names a key this instance has not seen yet (a rotation made elsewhere).
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { KeyMaterial } from '../oidc/keys.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export const publicJwk = (jwk: JWK): JWK => {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  return copy as JWK;
};

export interface IssuerKeysOptions {
  load: () => Promise<Pick<KeyMaterial, 'jwks' | 'version'>>;
  /** how long a loaded key set is used before it is read again (default 60 s). */
  maxAgeSeconds?: number;
  /** at most one extra read per this many seconds for an unknown key id (default 5 s). */
  missCooldownSeconds?: number;
}

export function createIssuerKeys(options: IssuerKeysOptions): { getKey: JWTVerifyGetKey } {
  const maxAge = (options.maxAgeSeconds ?? 60) * 1000;
  const cooldown = (options.missCooldownSeconds ?? 5) * 1000;
  let loadedAt = 0;
  let lastMissReload = 0;
  let kids = new Set<string>();
  let set: JWTVerifyGetKey | undefined;

  async function reload() {
    const material = await options.load();
    const keys = material.jwks.keys.map(publicJwk);
    kids = new Set(keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
    set = createLocalJWKSet({ keys });
    loadedAt = Date.now();
  }

  return {
    async getKey(header, token) {
      const now = Date.now();
      if (!set || now - loadedAt > maxAge) await reload();
      else if (header.kid && !kids.has(header.kid) && now - lastMissReload > cooldown) {
        lastMissReload = now;
        await reload();
      }
      return (set as JWTVerifyGetKey)(header, token);
    },
  };
}
