// Relying-party clients, signing keys and cookie keys: the platform operator's catalogue.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRepos, type Repos } from '../../../src/store/repos.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe(`clients and keys on ${backendName()}`, () => {
  let database: TestDatabase;
  let repos: Repos;
  let tenantId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    repos = createRepos(database.db, { transactional: database.transactional });
    tenantId = (await repos.tenants.ensurePlatform('Platform')).id;
  });
  afterAll(() => database.dispose());

  describe('clients', () => {
    const metadata = { redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code', 'refresh_token'] };

    it('creates, finds, lists, updates and deletes a client', async () => {
      const created = await repos.clients.create({ clientId: 'app', name: 'App', metadata, secretHash: 'ab'.repeat(32), tenantId, firstParty: true, requireMfa: false });
      expect(created).toMatchObject({ clientId: 'app', metadata, firstParty: true, requireMfa: false, disabled: false, tenantId });
      expect((await repos.clients.find('app'))?.secretHash).toBe('ab'.repeat(32));
      expect(await repos.clients.find('nope')).toBeUndefined();

      await repos.clients.create({ clientId: 'public-spa', name: 'Another', metadata, secretHash: null, firstParty: false, requireMfa: true });
      expect((await repos.clients.list()).map((c) => c.clientId)).toEqual(['public-spa', 'app']);

      const updated = await repos.clients.update('app', { requireMfa: true, disabled: true, metadata: { ...metadata, post_logout_redirect_uris: [] } });
      expect(updated).toMatchObject({ requireMfa: true, disabled: true, firstParty: true, name: 'App' });
      expect(updated?.metadata).toHaveProperty('post_logout_redirect_uris');
      expect(await repos.clients.update('nope', { name: 'x' })).toBeUndefined();

      expect(await repos.clients.delete('app')).toBe(true);
      expect(await repos.clients.delete('app')).toBe(false);
    });

    it('refuses a client id that exists already', async () => {
      await repos.clients.create({ clientId: 'dup', name: 'Dup', metadata, secretHash: null, firstParty: false, requireMfa: false });
      await expect(
        repos.clients.create({ clientId: 'dup', name: 'Dup 2', metadata, secretHash: null, firstParty: false, requireMfa: false }),
      ).rejects.toMatchObject({ status: 409, code: 'client_exists' });
    });
  });

  describe('signing keys', () => {
    it('rotates next → active → retiring and deletes keys once retired', async () => {
      await repos.signingKeys.insert({ kid: 'k1', alg: 'ES256', privateJwkEnc: 'sealed-1', state: 'active' });
      await repos.signingKeys.insert({ kid: 'k2', alg: 'ES256', privateJwkEnc: 'sealed-2', state: 'next' });
      expect((await repos.signingKeys.list()).map((k) => [k.kid, k.state])).toEqual([
        ['k1', 'active'],
        ['k2', 'next'],
      ]);
      const now = new Date();
      expect(await repos.signingKeys.setState('k2', 'active', { activatedAt: now })).toBe(true);
      expect(await repos.signingKeys.setState('k1', 'retiring', { retireAfter: new Date(now.getTime() + 3600_000) })).toBe(true);
      expect(await repos.signingKeys.setState('missing', 'retired')).toBe(false);

      expect(await repos.signingKeys.deleteRetired(now)).toBe(0);
      expect(await repos.signingKeys.deleteRetired(new Date(now.getTime() + 7200_000))).toBe(1);
      const left = await repos.signingKeys.list();
      expect(left.map((k) => k.kid)).toEqual(['k2']);
      expect(left[0]?.activatedAt?.getTime()).toBe(now.getTime());
    });

    it('refuses a duplicate kid', async () => {
      await repos.signingKeys.insert({ kid: 'dup', alg: 'RS256', privateJwkEnc: 's', state: 'next' });
      await expect(repos.signingKeys.insert({ kid: 'dup', alg: 'RS256', privateJwkEnc: 's', state: 'next' })).rejects.toMatchObject({ status: 409 });
    });
  });

  describe('cookie keys', () => {
    it('lists the newest key first (it signs; the others still verify)', async () => {
      const first = await repos.cookieKeys.insert('sealed-a');
      await sleep(5);
      const second = await repos.cookieKeys.insert('sealed-b');
      expect((await repos.cookieKeys.list()).map((k) => k.id)).toEqual([second.id, first.id]);
    });
  });
});
