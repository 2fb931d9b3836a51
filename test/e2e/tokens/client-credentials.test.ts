// Client-credentials tokens (RFC 6749 §4.4) are ES256 JWT access tokens for Gatehouse's API (RFC 9068):
// nothing is stored for them, so the ClientCredentials lookups that introspection and revocation make
// are answered without the store (src/oidc/adapters/unstored.ts), and a change that would store them
// fails instead of losing them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { seedClient } from '../../helpers/seed.ts';
import { createStorageAdapter } from '../../../src/oidc/adapters/index.ts';
import { UnstoredAdapter } from '../../../src/oidc/adapters/unstored.ts';

const jsonPart = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

describe('client-credentials tokens', () => {
  let gh: TestGatehouse;
  let authorization: string;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    const client = await seedClient(gh.runtime, { grants: ['client_credentials'], redirectUris: [] });
    authorization = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret ?? ''}`).toString('base64')}`;
  });
  afterAll(() => gh.stop());

  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${gh.issuer}${path}`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });

  it('are signed JWTs of which nothing is stored', async () => {
    const res = await post('/token', { grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    const { access_token: token } = (await res.json()) as { access_token: string };
    const [header, payload] = token.split('.');
    expect(jsonPart(header)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const { jti } = jsonPart(payload);
    expect(typeof jti).toBe('string');
    const Stored = createStorageAdapter(gh.runtime);
    expect(await new Stored('ClientCredentials').find(jti as string)).toBeUndefined();
    expect(await new Stored('AccessToken').find(jti as string)).toBeUndefined();
    // and the provider looks them up without the store
    expect((gh.gatehouse.provider().ClientCredentials as unknown as { adapter: unknown }).adapter).toBeInstanceOf(UnstoredAdapter);
  });

  it('are refused by the storage of their model, so a change that made them opaque would fail on the first one', async () => {
    const adapter = new UnstoredAdapter('ClientCredentials');
    await expect(adapter.upsert()).rejects.toThrow(/not stored/);
    expect(await adapter.find()).toBeUndefined();
  });
});
