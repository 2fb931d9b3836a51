// Every token endpoint authentication method Gatehouse advertises can be registered and works:
// client_secret_basic (the default), client_secret_post, and private_key_jwt with a jwks_uri. A client
// is held to the method it registered.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { GatehouseError } from '../../../src/domain/errors.ts';

describe('client authentication methods at the token endpoint', () => {
  let gh: TestGatehouse;
  let jwksServer: http.Server;
  let jwksUri: string;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const keys = await generateKeyPair('ES256');
    privateKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' };
    jwksServer = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    // the relying party's key set is on loopback in this test
    gh = await startTestGatehouse({ env: { FETCH_ALLOW_PRIVATE_NETWORKS: 'true' } });
  });
  afterAll(async () => {
    await gh.stop();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  const register = (input: Record<string, unknown>) =>
    gh.runtime.clients.register({ name: `App ${randomUUID()}`, grants: ['client_credentials'], ...input });

  async function token(body: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'gatehouse:api', ...body }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

  it('client_secret_post: the secret in the form body works (and a wrong one does not)', async () => {
    const client = await register({ tokenAuthMethod: 'client_secret_post' });
    expect(client).toMatchObject({ token_endpoint_auth_method: 'client_secret_post' });
    const secret = client.client_secret ?? '';
    expect(await token({ client_id: client.client_id, client_secret: secret })).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    expect(await token({ client_id: client.client_id, client_secret: `${secret}x` })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('client_secret_basic stays the default', async () => {
    const client = await register({});
    expect(client).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic' });
    expect(await token({}, basic(client.client_id, client.client_secret ?? ''))).toMatchObject({ status: 200 });
  });

  it('private_key_jwt: no secret is issued; a client assertion signed with a key from the jwks_uri works', async () => {
    const client = await register({ tokenAuthMethod: 'private_key_jwt', jwksUri });
    expect(client.client_secret).toBeUndefined();
    expect(client).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri });
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'rp-key-1' })
      .setIssuer(client.client_id)
      .setSubject(client.client_id)
      .setAudience(gh.issuer)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
    const ok = await token({ client_id: client.client_id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect(ok).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    expect(await token({}, basic(client.client_id, 'anything'))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect((await gh.runtime.clients.list()).find((c) => c.client_id === client.client_id)).toMatchObject({ public: false, token_endpoint_auth_method: 'private_key_jwt' });
  });

  it.each([
    [{ tokenAuthMethod: 'private_key_jwt' }, /jwks-uri: needed/],
    [{ jwksUri: 'https://rp.example/jwks' }, /jwks-uri: needed .* only with it/],
    [{ public: true, grants: ['authorization_code'], redirectUris: ['https://rp.example/cb'], tokenAuthMethod: 'client_secret_post' }, /a public client does not authenticate/],
    [{ tokenAuthMethod: 'client_secret_jwt' }, /tokenAuthMethod/],
  ])('refuses %p at registration', async (input, message) => {
    const outcome = await register(input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(GatehouseError);
    expect((outcome as GatehouseError).message).toMatch(message);
  });
});
