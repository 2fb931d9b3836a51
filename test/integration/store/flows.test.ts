// Flow objects (DESIGN.md §12.11) on both key-value stores: a flow is visible only to the binding, kind
// and account that started it, expires, is completed at most once however many callers race, and its
// payload is sealed at rest.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createKv, type Kv } from '../../../src/store/kv.ts';
import { openRedis } from '../../../src/store/redis.ts';
import { createFlows, type Flows } from '../../../src/domain/flows.ts';
import { createSecretBox, generateSecretKey, parseKeyring } from '../../../src/domain/secrets.ts';
import { backendName, createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { redisUnderTest, uniquePrefix } from '../../helpers/redis.ts';

function flowContract(title: string, open: () => Promise<{ kv: Kv; dispose(): Promise<void> }>) {
  describe(title, () => {
    let kv: Kv;
    let flows: Flows;
    let dispose: () => Promise<void>;
    const box = createSecretBox(parseKeyring(generateSecretKey()));
    const mine = { kind: 'totp_enrolment' as const, accountId: 'account-1', binding: 'interaction:uid-1' };

    beforeAll(async () => {
      ({ kv, dispose } = await open());
      flows = createFlows({ kv, box });
    });
    afterAll(() => dispose());

    it('opens a flow for the binding that started it, and for no other binding, kind or account', async () => {
      const started = await flows.start(mine, { secret: 'JBSWY3DPEHPK3PXP' }, 60);
      expect(await flows.open({ ...mine, id: started.id })).toMatchObject({ id: started.id, payload: { secret: 'JBSWY3DPEHPK3PXP' } });
      expect(await flows.open({ ...mine, id: started.id, binding: 'interaction:uid-2' })).toBeUndefined();
      expect(await flows.open({ ...mine, id: started.id, accountId: 'account-2' })).toBeUndefined();
      expect(await flows.take({ ...mine, id: started.id, binding: 'interaction:uid-2' })).toBeUndefined();
      // the failed take by another binding did not end it
      expect(await flows.open({ ...mine, id: started.id })).toBeDefined();
    });

    it('keeps the payload sealed at rest', async () => {
      const started = await flows.start(mine, { secret: 'PLAINTEXTSECRETXX' }, 60);
      const stored = JSON.stringify(await kv.get(`flow:${started.id}`));
      expect(stored).not.toContain('PLAINTEXTSECRETXX');
      expect(stored).toContain('"sealed":"v1.');
    });

    it('completes a flow once when 20 callers race to take it', async () => {
      const started = await flows.start(mine, { secret: 'S' }, 60);
      const taken = await Promise.all(Array.from({ length: 20 }, () => flows.take({ ...mine, id: started.id })));
      expect(taken.filter(Boolean)).toHaveLength(1);
      expect(await flows.open({ ...mine, id: started.id })).toBeUndefined();
    });

    it('treats an expired flow, an unknown id and a malformed id as absent', async () => {
      const now = new Date();
      const started = await flows.start(mine, { secret: 'S' }, 60, now);
      expect(await flows.open({ ...mine, id: started.id }, new Date(now.getTime() + 61_000))).toBeUndefined();
      expect(await flows.open({ ...mine, id: 'A'.repeat(24) })).toBeUndefined();
      expect(await flows.open({ ...mine, id: 'x\u0000y' })).toBeUndefined();
    });
  });
}

flowContract(`flows on SQL tables (${backendName()})`, async () => {
  const database: TestDatabase = await createTestDatabase();
  return { kv: createKv({ db: database.db }), dispose: () => database.dispose() };
});

flowContract('flows on Redis', async () => {
  const database = await createTestDatabase();
  const redis = await openRedis(redisUnderTest());
  const prefix = uniquePrefix();
  return {
    kv: createKv({ db: database.db, redis, prefix }),
    async dispose() {
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
      redis.destroy();
      await database.dispose();
    },
  };
});
