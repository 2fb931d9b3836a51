// Deletes what has expired: oidc-provider only checks `exp` and never deletes, so old rows are the
// adapter's to remove. The server runs it periodically; reads already treat expired rows as absent.
import type { Db } from '../../store/db.ts';
import { createEmailTokenRepo } from '../../store/repositories/email-tokens.ts';
import { createKvStoreRepo } from '../../store/repositories/kv-store.ts';
import { createOidcPayloadRepo } from '../../store/repositories/oidc-payloads.ts';

export interface SweepResult {
  oidcPayloads: number;
  kv: number;
  emailTokens: number;
}

export async function sweepExpired(db: Db, now: Date = new Date()): Promise<SweepResult> {
  // one after another: over the shared embedded database there is a single connection anyway
  const oidcPayloads = await createOidcPayloadRepo(db).deleteExpired(now);
  const kv = await createKvStoreRepo(db).deleteExpired(now);
  const emailTokens = await createEmailTokenRepo(db).deleteSpent(now);
  return { oidcPayloads, kv, emailTokens };
}
