// The contract every oidc-provider adapter keeps (the methods of oidc-provider's adapter interface):
// whatever the store, the provider sees the same behaviour — above all, one authorization code is
// exchanged at most once, because consuming is one conditional write. Run by
// test/integration/oidc-adapter/contract.test.ts and redis-cluster.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { AdapterFixture } from './adapters.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const id = () => randomUUID().replaceAll('-', '');

export function adapterContract(title: string, open: () => Promise<AdapterFixture>) {
  describe(title, () => {
    let subject: AdapterFixture;
    let adapter: (model: string) => Adapter;
    beforeAll(async () => {
      subject = await open();
      adapter = (model) => new subject.Adapter(model);
    });
    afterAll(() => subject.dispose());

    const code = (grantId: string): AdapterPayload => ({
      iat: nowSeconds(),
      exp: nowSeconds() + 60,
      kind: 'AuthorizationCode',
      accountId: 'acc-1',
      clientId: 'rp-1',
      grantId,
      scope: 'openid',
      redirectUri: 'https://rp.example/cb',
      codeChallenge: 'x'.repeat(43),
      codeChallengeMethod: 'S256',
    });

    it('returns what was stored, per model', async () => {
      const jti = id();
      const payload: AdapterPayload = { ...code('g'), amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa', claims: { id_token: { acr: { essential: true } } } };
      await adapter('AuthorizationCode').upsert(jti, payload, 60);
      expect(await adapter('AuthorizationCode').find(jti)).toEqual(payload);
      expect(await adapter('AccessToken').find(jti)).toBeUndefined();
      expect(await adapter('AuthorizationCode').find(id())).toBeUndefined();
    });

    it('overwrites on a second upsert', async () => {
      const jti = id();
      await adapter('Interaction').upsert(jti, { kind: 'Interaction', returnTo: '/a' }, 60);
      await adapter('Interaction').upsert(jti, { kind: 'Interaction', returnTo: '/b' }, 60);
      expect(await adapter('Interaction').find(jti)).toEqual({ kind: 'Interaction', returnTo: '/b' });
    });

    it('treats an expired artifact as absent', async () => {
      const jti = id();
      const uid = id();
      await adapter('Session').upsert(jti, { kind: 'Session', uid, accountId: 'acc-exp' }, 1);
      expect(await adapter('Session').find(jti)).toBeDefined();
      await sleep(1300);
      expect(await adapter('Session').find(jti)).toBeUndefined();
      expect(await adapter('Session').findByUid(uid)).toBeUndefined();
      expect(await subject.Adapter.listSessionIdsForAccount('acc-exp')).toEqual([]);
      await expect(adapter('Session').consume(jti)).rejects.toBeInstanceOf(errors.InvalidGrant);
    });

    it('keeps an artifact stored without expiry', async () => {
      const jti = id();
      await adapter('Client').upsert(jti, { client_id: jti, redirect_uris: ['https://rp.example/cb'] });
      expect(await adapter('Client').find(jti)).toEqual({ client_id: jti, redirect_uris: ['https://rp.example/cb'] });
    });

    it('finds a session by its uid', async () => {
      const jti = id();
      const uid = id();
      const payload: AdapterPayload = { kind: 'Session', uid, accountId: 'acc-uid', loginTs: nowSeconds() };
      await adapter('Session').upsert(jti, payload, 60);
      expect(await adapter('Session').findByUid(uid)).toEqual(payload);
      expect(await adapter('Session').findByUid(id())).toBeUndefined();
    });

    it('follows a session whose jti rotated while its uid stayed', async () => {
      const uid = id();
      const first = id();
      const second = id();
      await adapter('Session').upsert(first, { kind: 'Session', uid, accountId: 'acc-rot' }, 60);
      await adapter('Session').destroy(first);
      await adapter('Session').upsert(second, { kind: 'Session', uid, accountId: 'acc-rot', acr: 'urn:gatehouse:acr:mfa' }, 60);
      expect(await adapter('Session').findByUid(uid)).toMatchObject({ acr: 'urn:gatehouse:acr:mfa' });
    });

    it('finds a device code by its user code', async () => {
      const jti = id();
      const userCode = 'BCDF-GHJK';
      await adapter('DeviceCode').upsert(jti, { kind: 'DeviceCode', userCode, grantId: 'g-dev', clientId: 'tv' }, 60);
      expect(await adapter('DeviceCode').findByUserCode(userCode)).toMatchObject({ userCode, clientId: 'tv' });
      expect(await adapter('DeviceCode').findByUserCode('XXXX-XXXX')).toBeUndefined();
    });

    it('marks a consumed code so that find reports `consumed`, and refuses a second consume', async () => {
      const jti = id();
      await adapter('AuthorizationCode').upsert(jti, code('g-consume'), 60);
      await adapter('AuthorizationCode').consume(jti);
      const found = await adapter('AuthorizationCode').find(jti);
      expect(found).toMatchObject({ clientId: 'rp-1', grantId: 'g-consume' });
      expect(typeof found?.consumed).toBe('number');
      expect(Math.abs(Number(found?.consumed) - nowSeconds())).toBeLessThan(5);
      await expect(adapter('AuthorizationCode').consume(jti)).rejects.toBeInstanceOf(errors.InvalidGrant);
    });

    it('keeps a consumed artifact consumed when it is written again', async () => {
      const jti = id();
      await adapter('RefreshToken').upsert(jti, { kind: 'RefreshToken', grantId: 'g-rt', accountId: 'a' }, 60);
      await adapter('RefreshToken').consume(jti);
      await adapter('RefreshToken').upsert(jti, { kind: 'RefreshToken', grantId: 'g-rt', accountId: 'a' }, 60);
      expect((await adapter('RefreshToken').find(jti))?.consumed).toBeTruthy();
    });

    it('refuses to consume what does not exist', async () => {
      await expect(adapter('AuthorizationCode').consume(id())).rejects.toBeInstanceOf(errors.InvalidGrant);
    });

    it('lets exactly one of 20 parallel exchanges of one authorization code consume it', async () => {
      const jti = id();
      await adapter('AuthorizationCode').upsert(jti, code('g-race'), 60);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => adapter('AuthorizationCode').consume(jti)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(losers).toHaveLength(19);
      for (const loser of losers) {
        expect(loser.reason).toBeInstanceOf(errors.InvalidGrant);
        expect((loser.reason as InstanceType<typeof errors.InvalidGrant>).error).toBe('invalid_grant');
      }
    });

    it('destroys an artifact and its uid index', async () => {
      const jti = id();
      const uid = id();
      await adapter('Session').upsert(jti, { kind: 'Session', uid, accountId: 'acc-destroy' }, 60);
      await adapter('Session').destroy(jti);
      expect(await adapter('Session').find(jti)).toBeUndefined();
      expect(await adapter('Session').findByUid(uid)).toBeUndefined();
      await adapter('Session').destroy(jti); // destroying twice is harmless
    });

    it("revokes every artifact of a grant and nothing of another grant's", async () => {
      const grant = id();
      const other = id();
      const [ac, at, rt, keep] = [id(), id(), id(), id()];
      await adapter('AuthorizationCode').upsert(ac, code(grant), 60);
      await adapter('AccessToken').upsert(at, { kind: 'AccessToken', grantId: grant, accountId: 'a' }, 3600);
      await adapter('RefreshToken').upsert(rt, { kind: 'RefreshToken', grantId: grant, accountId: 'a' }, 86400);
      await adapter('AccessToken').upsert(keep, { kind: 'AccessToken', grantId: other, accountId: 'a' }, 3600);
      await adapter('Grant').upsert(grant, { kind: 'Grant', accountId: 'a', clientId: 'rp-1' }, 86400);

      await adapter('AccessToken').revokeByGrantId(grant);

      expect(await adapter('AuthorizationCode').find(ac)).toBeUndefined();
      expect(await adapter('AccessToken').find(at)).toBeUndefined();
      expect(await adapter('RefreshToken').find(rt)).toBeUndefined();
      expect(await adapter('AccessToken').find(keep)).toBeDefined();
      // the provider destroys the Grant itself (Grant.destroy); revoking its tokens leaves it
      expect(await adapter('Grant').find(grant)).toBeDefined();
      await adapter('RefreshToken').revokeByGrantId(grant); // again: nothing left, no error
    });

    it("lists an account's live sessions, so an admin can end them", async () => {
      const account = `acc-${id()}`;
      const other = `acc-${id()}`;
      const [s1, s2, s3, s4] = [id(), id(), id(), id()];
      await adapter('Session').upsert(s1, { kind: 'Session', uid: id(), accountId: account }, 600);
      await adapter('Session').upsert(s2, { kind: 'Session', uid: id(), accountId: account }, 600);
      await adapter('Session').upsert(s3, { kind: 'Session', uid: id(), accountId: other }, 600);
      await adapter('Session').upsert(s4, { kind: 'Session', uid: id() }, 600); // not signed in yet
      expect((await subject.Adapter.listSessionIdsForAccount(account)).sort()).toEqual([s1, s2].sort());

      for (const session of await subject.Adapter.listSessionIdsForAccount(account)) await adapter('Session').destroy(session);
      expect(await subject.Adapter.listSessionIdsForAccount(account)).toEqual([]);
      expect(await subject.Adapter.listSessionIdsForAccount(other)).toEqual([s3]);
    });

    it('moves a session to the account it now belongs to', async () => {
      const before = `acc-${id()}`;
      const after = `acc-${id()}`;
      const session = id();
      const uid = id();
      await adapter('Session').upsert(session, { kind: 'Session', uid, accountId: before }, 600);
      await adapter('Session').upsert(session, { kind: 'Session', uid, accountId: after }, 600);
      expect(await subject.Adapter.listSessionIdsForAccount(before)).toEqual([]);
      expect(await subject.Adapter.listSessionIdsForAccount(after)).toEqual([session]);
    });
  });
}

