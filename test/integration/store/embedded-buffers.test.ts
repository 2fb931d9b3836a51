// The embedded default keeps PostgreSQL's buffer pool at 16 MB (src/store/db.ts): the pool is resident
// from the moment the database opens, and PGlite reads its files through the OS page cache anyway.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows, type Database } from '../../../src/store/db.ts';
import { copyTemplateDataDir } from '../../helpers/db.ts';

describe('embedded database buffer pool', () => {
  let dataDir: string;
  let shared: Database;
  let privateCopy: Database;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-buffers-'));
    await copyTemplateDataDir(path.join(dataDir, 'pg'));
    await copyTemplateDataDir(path.join(dataDir, 'private'));
    // as `npm start` opens it (DATA_DIR/pg, shared with the commands), and as a private copy
    shared = await openDatabase({ dataDir, role: 'server' });
    privateCopy = await openDatabase({ dataDir, role: 'server', privateDirectory: path.join(dataDir, 'private') });
  });
  afterAll(async () => {
    await shared.close();
    await privateCopy.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens with 16 MB of shared buffers, not PostgreSQL’s 128 MB', async () => {
    for (const database of [shared, privateCopy]) {
      expect(await queryRows(database.db, sql`show shared_buffers`)).toEqual([{ shared_buffers: '16MB' }]);
    }
  });
});
