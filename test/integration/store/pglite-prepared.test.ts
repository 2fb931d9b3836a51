// The embedded database's prepared statements (src/store/pglite-prepared.ts): a statement with
// parameters is parsed once and then only bound and run, with the same results, types and errors as
// PGlite's own query(); it never runs inside another caller's transaction; its answers come back to it
// after a socket client of the same database (the CLI beside the server) had its turn; a statement
// dropped behind its back, or pushed out by newer ones, is prepared again.
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { PGlite, types } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { preparingStatements } from '../../../src/store/pglite-prepared.ts';

describe('PGlite with prepared statements', () => {
  let pglite: PGlite;
  let client: PGlite;

  const preparedNames = async () =>
    (await pglite.query<{ name: string }>("select name from pg_prepared_statements where name like 'gatehouse_embedded_%' order by name")).rows.map((r) => r.name);

  beforeAll(async () => {
    pglite = await PGlite.create();
    client = preparingStatements(pglite);
    await pglite.exec(`
      create table things (id uuid primary key, label text not null unique, at timestamptz, detail jsonb, flag boolean, n integer);
      insert into things values ('7c9e6679-7425-40de-944b-e07fc1f90ae7', 'first', '2026-12-03T07:00:00Z', '{"a":[1,2]}', true, 3);
    `);
  });
  afterAll(() => pglite.close());

  it('answers as PGlite does, in both row modes, and parses a statement once', async () => {
    const text = 'select id, label, at, detail, flag, n, $2::text as echo from things where label = $1';
    const before = (await preparedNames()).length;
    for (const options of [undefined, { rowMode: 'array' as const }]) {
      const expected = await pglite.query(text, ['first', 'x'], options);
      for (let i = 0; i < 3; i++) {
        const got = await client.query(text, ['first', 'x'], options);
        expect(got.rows).toEqual(expected.rows);
        expect(got.fields).toEqual(expected.fields);
      }
    }
    expect(((await client.query<{ at: Date }>(text, ['first', null])).rows[0] as { at: Date }).at).toEqual(new Date('2026-12-03T07:00:00Z'));
    expect((await preparedNames()).length).toBe(before + 1);
  });

  it("applies a call's own parsers to their types and the database's parsers to every other type, as PGlite's query() does", async () => {
    // drizzle passes parsers with every query (timestamps kept as text); this database has one of its own for booleans
    const custom = await PGlite.create({ parsers: { [types.BOOL]: (value: string) => (value === 't' ? 'yes' : 'no') } });
    try {
      const withOwnParsers = preparingStatements(custom);
      await custom.exec(`create table things (label text, at timestamptz, flag boolean, n integer);
        insert into things values ('first', '2026-12-03T07:00:00Z', true, 3);`);
      const text = 'select label, at, flag, n from things where label = $1';
      for (const rowMode of ['object', 'array'] as const) {
        const options = { rowMode, parsers: { [types.TIMESTAMPTZ]: (value: string) => `text:${value}` } };
        const expected = await custom.query(text, ['first'], options);
        expect(expected.rows).toEqual([rowMode === 'object' ? { label: 'first', at: 'text:2026-12-03 07:00:00+00', flag: 'yes', n: 3 } : ['first', 'text:2026-12-03 07:00:00+00', 'yes', 3]]);
        for (let i = 0; i < 2; i++) expect((await withOwnParsers.query(text, ['first'], options)).rows).toEqual(expected.rows);
      }
    } finally {
      await custom.close();
    }
  });

  it('serialises parameters as PGlite does: dates, JSON, booleans, numbers and null', async () => {
    const insert = 'insert into things (id, label, at, detail, flag, n) values ($1, $2, $3, $4, $5, $6) returning *';
    const at = new Date('2026-01-02T03:04:05.678Z');
    const inserted = await client.query(insert, ['9b2f2c8e-1f55-4c1b-8a4e-3f1ad0c7e901', 'second', at, { nested: { ok: true } }, false, 42]);
    expect(inserted.rows).toEqual([{ id: '9b2f2c8e-1f55-4c1b-8a4e-3f1ad0c7e901', label: 'second', at, detail: { nested: { ok: true } }, flag: false, n: 42 }]);
    expect(inserted.affectedRows).toBe(1);
    const withNulls = await client.query(insert, ['2d3b7a4e-5c6f-4a8b-9c0d-1e2f3a4b5c6d', 'third', null, null, null, null]);
    expect(withNulls.rows).toEqual([{ id: '2d3b7a4e-5c6f-4a8b-9c0d-1e2f3a4b5c6d', label: 'third', at: null, detail: null, flag: null, n: null }]);
  });

  it('passes errors on with their SQLSTATE and stays usable; a statement that does not parse is not kept', async () => {
    const insert = 'insert into things (id, label) values ($1, $2)';
    await client.query(insert, ['0f8fad5b-d9cb-469f-a165-70867728950e', 'unique-label']);
    await expect(client.query(insert, ['1f8fad5b-d9cb-469f-a165-70867728950e', 'unique-label'])).rejects.toMatchObject({ code: '23505' });
    const names = await preparedNames();
    await expect(client.query('select * from no_such_table where id = $1', [1])).rejects.toMatchObject({ code: '42P01' });
    expect(await preparedNames()).toEqual(names);
    expect((await client.query('select label from things where id = $1', ['0f8fad5b-d9cb-469f-a165-70867728950e'])).rows).toEqual([{ label: 'unique-label' }]);
  });

  it('never runs inside a transaction that another caller has open', async () => {
    const count = 'select count(*)::int as n from things where label like $1';
    const open = pglite.transaction(async (tx) => {
      await tx.query("insert into things (id, label) values ('5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'in-tx-1')");
      await sleep(150);
      await tx.rollback();
    });
    await sleep(20);
    // asked while the transaction is open: it waits, and sees nothing of what was rolled back
    const during = client.query<{ n: number }>(count, ['in-tx-%']);
    await open;
    expect((await during).rows).toEqual([{ n: 0 }]);
    expect(pglite.isInTransaction()).toBe(false);
  });

  it('gets its own answers after a socket client of the same database had its turn, and leaves the client its own', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-prepared-'));
    const server = new PGLiteSocketServer({ db: pglite, path: path.join(dir, '.s.PGSQL.5432'), maxConnections: 2 });
    await server.start();
    const pool = new pg.Pool({ host: dir, port: 5432, user: 'postgres', database: 'postgres', max: 1 });
    try {
      const text = 'select label from things where id = $1';
      expect((await client.query(text, ['e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b'])).rows).toEqual([]);
      await pool.query('insert into things (id, label) values ($1, $2)', ['e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b', 'from-socket']);
      expect((await client.query(text, ['e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b'])).rows).toEqual([{ label: 'from-socket' }]);
      expect((await pool.query('select count(*)::int as n from things where label = $1', ['from-socket'])).rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.end();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prepares a statement again when it was dropped behind its back', async () => {
    const text = 'select label from things where n = $1';
    expect((await client.query(text, [3])).rows).toEqual([{ label: 'first' }]);
    await pglite.exec('deallocate all');
    expect((await client.query(text, [3])).rows).toEqual([{ label: 'first' }]);
  });

  it('keeps at most 256 statements, closing the least recently used, and still runs the ones it closed', async () => {
    for (let i = 0; i < 300; i++) await client.query(`select $1::int + ${i} as v`, [1]);
    const names = await preparedNames();
    expect(names.length).toBeLessThanOrEqual(256);
    expect((await client.query('select $1::int + 0 as v', [1])).rows).toEqual([{ v: 1 }]);
  });
});
