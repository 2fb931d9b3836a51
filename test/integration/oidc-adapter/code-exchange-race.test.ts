// RFC 6749 §4.1.2: an authorization code is used once. oidc-provider reads the code, then consumes it:
// with an adapter that consumes by read-modify-write, parallel exchanges of one code all get tokens.
// With ours (one conditional write) exactly one wins, and a later replay revokes what the code produced
// (RFC 6749 §10.5: oidc-provider finds the code consumed and revokes its grant's tokens).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { GatehouseAdapterClass } from '../../../src/oidc/adapters/sql-adapter.ts';
import { backendName } from '../../helpers/db.ts';
import { redisUnderTest } from '../../helpers/redis.ts';
import { lmdbAdapterFixture, redisAdapterFixture, sqlAdapterFixture, type AdapterFixture } from '../../helpers/adapters.ts';

const REDIRECT_URI = 'https://rp.example/cb';

/**
 * The worst timing, made deterministic (on every store: with PGlite the consuming statements then run
 * one after another on its one connection, on PostgreSQL and Redis at once; one winner is the outcome
 * either way): every exchange has read the code (still unconsumed) before any of
 * them consumes it. Without this, the first request often consumes before the others read, and a naive
 * adapter would pass too.
 */
function withReadBarrier(Base: GatehouseAdapterClass) {
  let parties = 0;
  let waiting: Array<() => void> = [];
  const release = () => {
    for (const resume of waiting) resume();
    waiting = [];
  };
  class BarrierAdapter extends Base {
    readonly #model: string;
    constructor(model: string) {
      super(model);
      this.#model = model;
    }
    override async find(id: string) {
      const found = await super.find(id);
      if (this.#model === 'AuthorizationCode' && parties > 0) {
        await new Promise<void>((resume) => {
          waiting.push(resume);
          if (waiting.length >= parties) release();
        });
      }
      return found;
    }
  }
  return {
    Adapter: BarrierAdapter,
    /** the next `n` code reads wait for each other. */
    arm(n: number) {
      parties = n;
    },
    disarm() {
      parties = 0;
      release();
    },
  };
}
const CLIENT = { client_id: 'rp', client_secret: 'rp-secret-that-is-long-enough-for-tests' };

function raceSuite(title: string, open: () => Promise<AdapterFixture>) {
  describe(title, () => {
    let dispose: () => Promise<void>;
    let provider: Provider;
    let server: http.Server;
    let tokenUrl: string;
    let barrier: ReturnType<typeof withReadBarrier>;

    beforeAll(async () => {
      const opened = await open();
      dispose = opened.dispose;
      barrier = withReadBarrier(opened.Adapter);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      provider = new Provider('http://127.0.0.1', {
        adapter: barrier.Adapter,
        clients: [{ ...CLIENT, redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'] }],
        jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' }] },
        findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
        features: { devInteractions: { enabled: false } },
        pkce: { required: () => true },
        ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600 },
      });
      server = http.createServer(provider.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      await dispose();
    });

    /** A code as the authorization endpoint would have issued it after sign-in. */
    async function issueCode(verifier: string) {
      const grant = new provider.Grant({ accountId: 'acc-1', clientId: CLIENT.client_id });
      grant.addOIDCScope('openid');
      const grantId = await grant.save();
      const client = await provider.Client.find(CLIENT.client_id);
      if (!client) throw new Error('the static client is missing');
      const code = new provider.AuthorizationCode({
        client,
        accountId: 'acc-1',
        grantId,
        redirectUri: REDIRECT_URI,
        scope: 'openid',
        codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
        codeChallengeMethod: 'S256',
        gty: 'authorization_code',
      });
      return code.save();
    }

    const exchange = (code: string, verifier: string) =>
      fetch(tokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

    it('gives tokens to exactly one of 10 parallel exchanges of one code', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const code = await issueCode(verifier);
      barrier.arm(10);
      const responses = await Promise.all(Array.from({ length: 10 }, () => exchange(code, verifier))).finally(() => barrier.disarm());
      expect(responses.map((r) => `${r.status} ${String(r.body.error ?? 'tokens')}`).sort()).toEqual([
        '200 tokens',
        ...Array.from({ length: 9 }, () => '400 invalid_grant'),
      ]);
      expect(responses.find((r) => r.status === 200)?.body).toHaveProperty('access_token');
    });

    it('revokes the tokens of a code that is replayed later', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const code = await issueCode(verifier);
      const first = await exchange(code, verifier);
      expect(first.status).toBe(200);
      const accessToken = String(first.body.access_token);
      expect(await provider.AccessToken.find(accessToken)).toBeDefined();

      const replay = await exchange(code, verifier);
      expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(await provider.AccessToken.find(accessToken)).toBeUndefined();
    });
  });
}

raceSuite(`authorization code exchange with the SQL adapter on ${backendName()}`, sqlAdapterFixture);
raceSuite('authorization code exchange with the LMDB adapter (embedded default)', lmdbAdapterFixture);

// The Redis adapter is tested against the local Redis in the embedded mode too.
raceSuite('authorization code exchange with the Redis adapter', () => redisAdapterFixture(redisUnderTest()));
