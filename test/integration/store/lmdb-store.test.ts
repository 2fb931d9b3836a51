// The embedded default's LMDB store (src/store/lmdb.ts): what it promises beyond the shared adapter
// and Kv contracts — state survives closing and reopening (a restart), and two processes on one
// directory (the server and the CLI) see one store: a value is taken once, counters never lose a hit.
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLmdbAdapter } from '../../../src/oidc/adapters/lmdb-adapter.ts';
import { createKv } from '../../../src/store/kv.ts';
import { openLmdbStore } from '../../../src/store/lmdb.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { temporaryLmdb } from '../../helpers/adapters.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Runs ESM code in another Node process with `dataDir` in scope; resolves with its stdout. */
function inOtherProcess(dataDir: string, body: string): Promise<string> {
  const source = `
    import { openLmdbStore } from ${JSON.stringify(path.join(ROOT, 'src/store/lmdb.ts'))};
    import { createKv } from ${JSON.stringify(path.join(ROOT, 'src/store/kv.ts'))};
    const store = openLmdbStore(${JSON.stringify(dataDir)});
    const kv = createKv({ db: undefined, lmdb: store, prefix: 'gatehouse:' });
    ${body}
    await store.close();`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', source], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

describe('LMDB store of the embedded default', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('keeps sessions, refresh tokens, their consumed state and counters across a close and reopen', async () => {
    const lmdb = temporaryLmdb();
    cleanups.push(lmdb.dispose);
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.dispose());
    const Adapter = createLmdbAdapter(lmdb.store);
    await new Adapter('Session').upsert('s1', { kind: 'Session', uid: 'u1', accountId: 'acc-1' }, 600);
    await new Adapter('RefreshToken').upsert('r1', { kind: 'RefreshToken', grantId: 'g1', accountId: 'acc-1' }, 600);
    await new Adapter('RefreshToken').consume('r1');
    const kv = createKv({ db: database.db, lmdb: lmdb.store });
    await kv.increment('tries', 600);
    await lmdb.store.close();

    const reopened = openLmdbStore(lmdb.dataDir);
    cleanups.push(() => reopened.close());
    const Again = createLmdbAdapter(reopened);
    expect(await new Again('Session').findByUid('u1')).toEqual({ kind: 'Session', uid: 'u1', accountId: 'acc-1' });
    expect(await new Again('RefreshToken').find('r1')).toMatchObject({ kind: 'RefreshToken', consumed: expect.any(Number) });
    expect(await Again.listSessionIdsForAccount('acc-1')).toEqual(['s1']);
    expect(await createKv({ db: database.db, lmdb: reopened }).increment('tries', 600)).toBe(2);
  });

  it('lets another process take a value once and count on the same counters while this one does', async () => {
    const lmdb = temporaryLmdb();
    cleanups.push(lmdb.dispose);
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.dispose());
    const kv = createKv({ db: database.db, lmdb: lmdb.store });
    await kv.set('flow', { step: 'verify' }, 600);

    const [other] = await Promise.all([
      inOtherProcess(
        lmdb.dataDir,
        `const taken = await kv.take('flow');
         for (let i = 0; i < 50; i++) await kv.increment('hits', 600);
         process.stdout.write(JSON.stringify(taken ?? null));`,
      ),
      (async () => {
        for (let i = 0; i < 50; i++) await kv.increment('hits', 600);
      })(),
    ]);
    const mine = await kv.take('flow');
    // exactly one of the two processes got the value (the other process ran its take first or second)
    expect([JSON.parse(other), mine ?? null].filter((v) => v !== null)).toEqual([{ step: 'verify' }]);
    expect(await kv.increment('hits', 600)).toBe(101);
  });
});
