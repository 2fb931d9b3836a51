// Signing-key lifecycle as pure decisions. A key is published (state `next`) one rotation before it
// signs, so relying parties with a cached JWKS already know it; a replaced key stays published
// (`retiring`) until every token it signed has expired.
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export type KeyState = 'next' | 'active' | 'retiring' | 'retired';

export interface KeyRecord {
  kid: string;
  alg: string;
  state: KeyState;
  createdAt: Date;
  retireAfter: Date | null;
}

export interface RotationPlan {
  activate: string[];
  retire: { kid: string; retireAfter: Date }[];
  create: { alg: SigningAlg; state: 'next' | 'active' }[];
  drop: string[];
}

const isExpired = (k: KeyRecord, now: Date) => k.state === 'retiring' && k.retireAfter !== null && k.retireAfter <= now;

/** What a fresh or partially set-up key store needs so that every algorithm has an active and a next key. */
export function planInitialKeys(keys: readonly KeyRecord[]): RotationPlan {
  const create: RotationPlan['create'] = [];
  for (const alg of SIGNING_ALGS) {
    if (!keys.some((k) => k.alg === alg && k.state === 'active')) create.push({ alg, state: 'active' });
    if (!keys.some((k) => k.alg === alg && k.state === 'next')) create.push({ alg, state: 'next' });
  }
  return { activate: [], retire: [], create, drop: [] };
}

/** One rotation: next → active, active → retiring (kept published for `retireAfterSeconds`), a new next. */
export function planRotation(keys: readonly KeyRecord[], now: Date, retireAfterSeconds: number): RotationPlan {
  const plan: RotationPlan = { activate: [], retire: [], create: [], drop: [] };
  const retireAfter = new Date(now.getTime() + retireAfterSeconds * 1000);
  for (const alg of SIGNING_ALGS) {
    const next = keys.find((k) => k.alg === alg && k.state === 'next');
    const active = keys.filter((k) => k.alg === alg && k.state === 'active');
    if (next) plan.activate.push(next.kid);
    else plan.create.push({ alg, state: 'active' });
    for (const k of active) plan.retire.push({ kid: k.kid, retireAfter });
    plan.create.push({ alg, state: 'next' });
  }
  plan.drop = keys.filter((k) => isExpired(k, now)).map((k) => k.kid);
  return plan;
}

const order: Record<Exclude<KeyState, 'retired'>, number> = { active: 0, next: 1, retiring: 2 };

/** Keys the JWKS publishes, signing keys first (oidc-provider signs with the first key of an algorithm). */
export function publishedKeys<T extends KeyRecord>(keys: readonly T[], now: Date): T[] {
  return keys
    .filter((k) => k.state !== 'retired' && !isExpired(k, now))
    .sort((a, b) => order[a.state as keyof typeof order] - order[b.state as keyof typeof order] || b.createdAt.getTime() - a.createdAt.getTime());
}
