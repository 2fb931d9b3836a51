import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/store/db.ts';
import { createTestDatabase, backendName, type TestDatabase } from '../../helpers/db.ts';

describe(`database on ${backendName()}`, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.dispose());

  it('applies the migrations', async () => {
    expect(await queryRows(database.db, sql`select count(*)::int as n from tenants`)).toEqual([{ n: 0 }]);
  });
});
