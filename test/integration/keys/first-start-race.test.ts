// Two instances starting at the same moment on an empty PostgreSQL database must end with one
// active and one next key per algorithm, not two of each. Several instances only exist on PostgreSQL
// (the embedded database belongs to one process), so this runs on the local PostgreSQL in both modes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../../../src/store/db.ts';
import { createRepos } from '../../../src/store/repos.ts';
import { createKeyStore } from '../../../src/oidc/keys.ts';
import { createSecretBox } from '../../../src/domain/secrets.ts';
import { createTestDatabase, postgresUnderTest, type TestDatabase } from '../../helpers/db.ts';

const url = postgresUnderTest();
const box = createSecretBox([Buffer.alloc(32, 7)]);
const storeOn = (db: Database) => createKeyStore(createRepos(db.db), box, (name, work) => db.exclusive(name, work));

describe('signing keys at first start of two instances', () => {
  let first: TestDatabase;
  let second: Database;
  beforeAll(async () => {
    first = await createTestDatabase({ databaseUrl: url });
    second = await openDatabase({ databaseUrl: url, dataDir: '', role: 'server', schemaName: first.schemaName, poolSize: 2 });
  });
  afterAll(async () => {
    await second?.close();
    await first?.dispose();
  });

  it('creates one key set when both instances ensure keys concurrently', async () => {
    await Promise.all([storeOn(first).ensure(), storeOn(second).ensure(), storeOn(first).ensure(), storeOn(second).ensure()]);
    const keys = await createRepos(first.db).signingKeys.list();
    const count = (alg: string, state: string) => keys.filter((k) => k.alg === alg && k.state === state).length;
    expect([count('ES256', 'active'), count('ES256', 'next'), count('RS256', 'active'), count('RS256', 'next')]).toEqual([1, 1, 1, 1]);
    expect(await createRepos(first.db).cookieKeys.list()).toHaveLength(1);
  });
});
