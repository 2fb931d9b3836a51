// The storage of a model oidc-provider never stores. Client-credentials tokens are JWTs (the one
// resource server Gatehouse serves issues `jwt` access tokens, src/oidc/provider.ts) and oidc-provider
// stores only opaque tokens, yet every introspection and revocation also looks the presented token up
// as a ClientCredentials: a Redis command, or an LMDB or SQL read, that can only miss. This adapter
// answers those lookups at once, and refuses a write, so that a change making these tokens opaque
// fails on the first one issued instead of losing them.
import type { Adapter, AdapterPayload } from 'oidc-provider';

export class UnstoredAdapter implements Adapter {
  readonly model: string;

  constructor(model: string) {
    this.model = model;
  }

  async upsert(): Promise<void> {
    throw new Error(`${this.model} artifacts are not stored: they must be structured (JWT) tokens`);
  }

  async find(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async findByUid(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async findByUserCode(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async consume(): Promise<void> {}

  async destroy(): Promise<void> {}

  async revokeByGrantId(): Promise<void> {}
}
