// A statement whose text is built once, with drizzle, and prepared under a name: each call only binds its
// values. Building a statement with drizzle costs the main thread more than PostgreSQL takes to run a
// small one, and the writes of a sign-in come in a few fixed shapes (bench/README.md, "Statements built
// once"). For what drizzle's builders cannot prepare themselves (data-modifying CTEs, ON CONFLICT with a
// WHERE): values go in as `sql.placeholder(name)`, never as literals, or the first call's values would be
// every call's.
import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db } from './db.ts';

const dialect = new PgDialect();

export type StatementValues = Record<string, unknown>;

/** `name` undefined: a statement used once, sent unnamed. */
export function fixedStatement<Row>(db: Db, name: string | undefined, build: () => SQL): (values: StatementValues) => Promise<Row[]> {
  let prepared: ReturnType<Db['_']['session']['prepareQuery']> | undefined;
  return async (values) => {
    prepared ??= db._.session.prepareQuery(dialect.sqlToQuery(build()), undefined, name, false);
    const result = (await prepared.execute(values)) as { rows: Row[] };
    return result.rows;
  };
}

/** A timestamp column's new value: a Date as it is, or a placeholder cast (drizzle's set() takes no bare placeholder). */
export const timestampValue = (at: Date | Placeholder): Date | SQL => (at instanceof Date ? at : sql`${at}::timestamptz`);
