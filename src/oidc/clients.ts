// Clients live in the database. oidc-provider asks its Client adapter on every request, so rows are
// kept in process memory under the clients' change generation (src/store/change-signals.ts): any
// change on any instance or from the CLI moves it, and the next lookup reads the database again, so a
// disabled or deleted client or a rotated secret is refused at once everywhere. Where no generation
// is known (PostgreSQL without Redis, or Redis unreachable) every lookup reads the database.
// Secrets are generated with ≥256 bits, so the stored SHA-256 digest is compared in constant time
// (at 256 bits a plain digest is as strong as a password hash, and much cheaper) and the digest stands in for `client_secret` in the provider's metadata.
import type { Provider } from 'oidc-provider';
import type { Repos } from '../store/repos.ts';
import { matchesDigest } from '../domain/digest.ts';
import type { ChangeSignals } from '../store/change-signals.ts';

type ClientRow = Awaited<ReturnType<Repos['clients']['find']>>;

/** The provider metadata of a stored client, or undefined for unknown/disabled ones. */
export function providerMetadata(row: ClientRow): Record<string, unknown> | undefined {
  if (!row || row.disabled) return undefined;
  return {
    ...row.metadata,
    client_id: row.clientId,
    ...(row.secretHash ? { client_secret: row.secretHash } : {}),
    first_party: row.firstParty,
    require_mfa: row.requireMfa,
    require_phishing_resistant_mfa: row.requirePhishingResistantMfa,
    may_introspect: row.mayIntrospect,
    tenant_id: row.tenantId ?? undefined,
  };
}

const MAX_CACHED = 10_000;

/** `maxAgeSeconds` bounds how long an entry is served even when no change was announced (0: never cached). */
export function createClientAdapterClass(clients: Pick<Repos['clients'], 'find'>, signals: Pick<ChangeSignals, 'generation'>, maxAgeSeconds: number) {
  const cache = new Map<string, { at: number; generation: number; value: Record<string, unknown> | undefined }>();
  return class ClientAdapter {
    async find(id: string) {
      // a client id from a request (query, form or Basic credentials) with NUL names no client, and
      // PostgreSQL would refuse it in a query
      if (typeof id !== 'string' || id.includes('\u0000')) return undefined;
      // read before the row: a change committed while the row is read leaves the entry stale-marked
      const generation = await signals.generation('clients');
      const hit = cache.get(id);
      if (hit && hit.generation === generation && Date.now() - hit.at < maxAgeSeconds * 1000) return hit.value;
      const value = providerMetadata(await clients.find(id));
      if (generation === undefined || maxAgeSeconds <= 0) return value;
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(id, { at: Date.now(), generation, value });
      return value;
    }
    async upsert() {
      throw new Error('clients are managed through Gatehouse, not dynamic registration');
    }
    async destroy(id: string) {
      cache.delete(id);
    }
    async consume() {}
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async revokeByGrantId() {}
  };
}

/** Compares presented secrets against the stored digest instead of a plain secret. */
export function useHashedClientSecrets(provider: Provider): void {
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return typeof this.clientSecret === 'string' && matchesDigest(actual, this.clientSecret);
  };
}
