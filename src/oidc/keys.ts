// Signing and cookie keys, generated at first start and stored sealed (AES-256-GCM) in the database.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { planInitialKeys, planRotation, publishedKeys, type KeyRecord, type RotationPlan, type SigningAlg } from '../domain/keys.ts';
import type { SecretBox } from '../domain/secrets.ts';
import type { Repos } from '../store/repos.ts';
import type { Exclusive } from '../store/db.ts';

export interface PublishedKey {
  kid: string;
  alg: string;
  state: string;
  createdAt: Date;
  retireAfter: Date | null;
}

export interface KeyMaterial {
  /** private JWKs in signing order, for oidc-provider's `jwks` option. */
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  /** a fingerprint that changes whenever the published key set does. */
  version: string;
}

const JWK_CONTEXT = 'signing-key';
const COOKIE_CONTEXT = 'cookie-key';

async function generateJwk(alg: SigningAlg): Promise<JWK & { kid: string }> {
  const { privateKey } =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg, use: 'sig' };
}

const LOCK = 'gatehouse:keys';

/**
 * `exclusive` serialises key changes across instances: two instances starting together on an empty
 * database must not each create keys, and two rotations must not interleave.
 */
export function createKeyStore(repos: Pick<Repos, 'signingKeys' | 'cookieKeys' | 'audit'>, box: SecretBox, exclusive: Exclusive) {
  const records = async (): Promise<KeyRecord[]> =>
    (await repos.signingKeys.list()).map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, createdAt: k.createdAt, retireAfter: k.retireAfter }));

  async function apply(plan: RotationPlan, now: Date): Promise<string[]> {
    const created: string[] = [];
    for (const { alg, state } of plan.create) {
      const jwk = await generateJwk(alg);
      await repos.signingKeys.insert({ kid: jwk.kid, alg, privateJwkEnc: box.seal(JSON.stringify(jwk), JWK_CONTEXT), state });
      if (state === 'active') await repos.signingKeys.setState(jwk.kid, 'active', { activatedAt: now });
      created.push(jwk.kid);
    }
    for (const kid of plan.activate) await repos.signingKeys.setState(kid, 'active', { activatedAt: now });
    for (const { kid, retireAfter } of plan.retire) await repos.signingKeys.setState(kid, 'retiring', { retireAfter });
    for (const kid of plan.drop) await repos.signingKeys.setState(kid, 'retired', {});
    return created;
  }

  return {
    /** First start: every algorithm gets an active and a next key; one cookie key. */
    ensure(now = new Date()): Promise<void> {
      return exclusive(LOCK, async () => {
        await apply(planInitialKeys(await records()), now);
        if ((await repos.cookieKeys.list()).length === 0) await repos.cookieKeys.insert(box.seal(randomBytes(32).toString('base64url'), COOKIE_CONTEXT));
      });
    },

    rotate(retireAfterSeconds: number, now = new Date()) {
      return exclusive(LOCK, async () => {
        const plan = planRotation(await records(), now, retireAfterSeconds);
        const created = await apply(plan, now);
        await repos.audit.record({ action: 'keys.rotated', detail: { activated: plan.activate, retiring: plan.retire.map((r) => r.kid), created } });
        return { activated: plan.activate, retiring: plan.retire, created, dropped: plan.drop };
      });
    },

    async list(now = new Date()): Promise<PublishedKey[]> {
      const published = new Set(publishedKeys(await records(), now).map((k) => k.kid));
      return (await repos.signingKeys.list()).map((k) => ({
        kid: k.kid,
        alg: k.alg,
        state: published.has(k.kid) || k.state === 'retired' ? k.state : 'expired',
        createdAt: k.createdAt,
        retireAfter: k.retireAfter,
      }));
    },

    async load(now = new Date()): Promise<KeyMaterial> {
      const rows = await repos.signingKeys.list();
      const sealedByKid = new Map(rows.map((r) => [r.kid, r.privateJwkEnc]));
      const ordered = publishedKeys(
        rows.map((r) => ({ kid: r.kid, alg: r.alg, state: r.state, createdAt: r.createdAt, retireAfter: r.retireAfter })),
        now,
      );
      const keys = ordered.map((k) => JSON.parse(box.openText(sealedByKid.get(k.kid) ?? '', JWK_CONTEXT)) as JWK);
      const cookies = await repos.cookieKeys.list();
      const cookieKeys = [...cookies]
        .sort((a, b) => (a.state === b.state ? b.createdAt.getTime() - a.createdAt.getTime() : a.state === 'active' ? -1 : 1))
        .map((c) => box.openText(c.keyEnc, COOKIE_CONTEXT));
      const version = ordered.map((k) => `${k.kid}:${k.state}`).join(',');
      return { jwks: { keys }, cookieKeys, version };
    },
  };
}

export type KeyStore = ReturnType<typeof createKeyStore>;
