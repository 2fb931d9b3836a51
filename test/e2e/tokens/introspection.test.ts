// Token introspection (RFC 7662 §4): a client learns about a token only when the token was issued to
// it, issued for it (its audience), or it is registered as an introspector — of its own tenant when
// bound to one. Everyone else is told `active: false`, as for a token that does not exist.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant } from '../../helpers/seed.ts';
import { introspectionAllowed } from '../../../src/oidc/provider.ts';

type Credentials = { clientId: string; clientSecret?: string | undefined };

describe('who may introspect a token (over HTTP)', () => {
  let gh: TestGatehouse;
  let issuedTo: Credentials;
  let tokens: { access: string; refresh: string };
  const introspectors: Record<string, Credentials> = {};

  beforeAll(async () => {
    gh = await startTestGatehouse();
    const orgA = await seedTenant(gh.runtime);
    const orgB = await seedTenant(gh.runtime);
    const account = await seedAccount(gh.runtime, orgA.id);
    issuedTo = await seedClient(gh.runtime, { tenantId: orgA.id });
    introspectors.otherTenantClient = await seedClient(gh.runtime, { tenantId: orgB.id });
    introspectors.sameTenantClient = await seedClient(gh.runtime, { tenantId: orgA.id });
    introspectors.unboundClient = await seedClient(gh.runtime);
    introspectors.platformIntrospector = await seedClient(gh.runtime, { mayIntrospect: true, grants: ['client_credentials'], redirectUris: [] });
    introspectors.orgAIntrospector = await seedClient(gh.runtime, { mayIntrospect: true, tenantId: orgA.id, grants: ['client_credentials'], redirectUris: [] });
    introspectors.orgBIntrospector = await seedClient(gh.runtime, { mayIntrospect: true, tenantId: orgB.id, grants: ['client_credentials'], redirectUris: [] });
    const signedIn = await passwordSignIn(await rpConfig(gh.issuer, issuedTo), account.email);
    tokens = { access: signedIn.tokens.access_token, refresh: signedIn.tokens.refresh_token ?? '' };
    expect(tokens.refresh).not.toBe('');
  });
  afterAll(() => gh.stop());

  async function introspect(as: Credentials | undefined, token: string, hint?: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${gh.issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${as?.clientId ?? ''}:${as?.clientSecret ?? ''}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}) }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  it('tells the client the tokens were issued to', async () => {
    expect(await introspect(issuedTo, tokens.access)).toMatchObject({ active: true, client_id: issuedTo.clientId });
    expect(await introspect(issuedTo, tokens.refresh)).toMatchObject({ active: true });
  });

  it('finds each token with either hint, right or wrong (RFC 7662 §2.1)', async () => {
    for (const hint of ['access_token', 'refresh_token']) {
      expect(await introspect(issuedTo, tokens.access, hint)).toMatchObject({ active: true, client_id: issuedTo.clientId });
      expect(await introspect(issuedTo, tokens.refresh, hint)).toMatchObject({ active: true, client_id: issuedTo.clientId });
    }
  });

  it.each(['otherTenantClient', 'sameTenantClient', 'unboundClient'])('tells a %s that is not an introspector nothing (active: false)', async (who) => {
    for (const token of [tokens.access, tokens.refresh]) {
      const answer = await introspect(introspectors[who], token);
      expect(answer).toEqual({ active: false });
    }
  });

  it('tells a registered introspector, and one bound to the tenant of the client the token was issued to', async () => {
    expect(await introspect(introspectors.platformIntrospector, tokens.access)).toMatchObject({ active: true, client_id: issuedTo.clientId });
    expect(await introspect(introspectors.orgAIntrospector, tokens.access)).toMatchObject({ active: true });
  });

  it("does not tell an introspector bound to another tenant", async () => {
    expect(await introspect(introspectors.orgBIntrospector, tokens.access)).toEqual({ active: false });
  });

  it('lists the flag with the client', async () => {
    const listed = await gh.runtime.clients.list();
    expect(listed.find((c) => c.client_id === introspectors.platformIntrospector?.clientId)).toMatchObject({ may_introspect: true });
    expect(listed.find((c) => c.client_id === issuedTo.clientId)).toMatchObject({ may_introspect: false });
  });
});

describe('the introspection rule (RFC 7662 §4)', () => {
  const client = (clientId: string, metadata: Record<string, unknown> = {}, clientAuthMethod = 'client_secret_basic') => ({ clientId, clientAuthMethod, metadata: () => metadata });
  const owners: Record<string, Record<string, unknown>> = { 'app-a': { tenant_id: 'tenant-a' }, 'app-free': {} };
  const find = async (id: string) => (owners[id] ? { metadata: () => owners[id] ?? {} } : undefined);

  it.each([
    ['the client the token was issued to', 'allowed', client('app-a'), { clientId: 'app-a' }],
    ['a public client, for its own token', 'allowed', client('spa', {}, 'none'), { clientId: 'spa' }],
    ['a resource server in the audience', 'allowed', client('api-1'), { clientId: 'app-a', aud: ['api-1', 'api-2'] }],
    ['a resource server named as the single audience', 'allowed', client('api-2'), { clientId: 'app-a', aud: 'api-2' }],
    ['a public client in the audience (anyone can claim its id)', 'refused', client('spa', {}, 'none'), { clientId: 'app-a', aud: 'spa' }],
    ['another confidential client', 'refused', client('app-b'), { clientId: 'app-a' }],
    ['an introspector of any tenant', 'allowed', client('rs', { may_introspect: true }), { clientId: 'app-a' }],
    ['an introspector of the same tenant', 'allowed', client('rs', { may_introspect: true, tenant_id: 'tenant-a' }), { clientId: 'app-a' }],
    ['an introspector of another tenant', 'refused', client('rs', { may_introspect: true, tenant_id: 'tenant-b' }), { clientId: 'app-a' }],
    ["a tenant's introspector, for a client bound to no tenant", 'refused', client('rs', { may_introspect: true, tenant_id: 'tenant-a' }), { clientId: 'app-free' }],
    ['a public client flagged as introspector', 'refused', client('spa', { may_introspect: true }, 'none'), { clientId: 'app-a' }],
  ])('%s → %s', async (_who, outcome, who, token) => {
    expect(await introspectionAllowed(who, token, find)).toBe(outcome === 'allowed');
  });
});
