// The embedded database's statements, prepared once. PGlite's query() parses, plans and runs every
// statement afresh, in six protocol exchanges with the WebAssembly backend; for the sign-in's account
// lookup (three tables) planning alone took 0.7 of its 1 ms of CPU. This client names each statement
// with parameters the first time its text is seen, as node-postgres does for named statements, and runs
// it afterwards with one exchange (Bind, Describe, Execute, Sync), so PostgreSQL reuses its plan.
// Statements without parameters (migrations, DDL) and everything inside a transaction go to PGlite as
// before. Results, type parsing and errors are PGlite's own. The exchanges go through
// execProtocolStream, as PGlite's query() does: it sets where the backend's answer goes each time,
// where execProtocol would keep the receiver a socket client of the shared database set last.
import { parse, protocol, type PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';
import { replacingMethod } from './replacing-method.ts';

/** Prepared statements kept at most; the least recently used one is closed when another is added. */
const MAX_STATEMENTS = 256;

/** SQLSTATE 26000: the named statement is gone (e.g. deallocated by another client of the shared database). */
const UNKNOWN_STATEMENT = '26000';

interface Statement {
  name: string;
  /** the parameters' type OIDs, as the backend inferred them. */
  types: number[];
}

const codeOf = (error: unknown): unknown => (typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined);

/** `pglite` with a query() that prepares its statements; every other member is PGlite's own. */
export function preparingStatements(pglite: PGlite): PGlite {
  const { serialize } = protocol;
  const statements = new Map<string, Statement>();
  let named = 0;

  const serialized = (values: readonly unknown[], types: readonly number[], options: QueryOptions | undefined): (string | null)[] =>
    values.map((value, i) => {
      if (value === null || value === undefined) return null;
      const type = types[i] ?? 0;
      const serializer = options?.serializers?.[type] ?? pglite.serializers[type];
      return serializer ? serializer(value) : String(value);
    });

  /** The statement of `text`, parsed now when it is new (closing the least recently used one when full). */
  async function statementFor(text: string): Promise<Statement> {
    const known = statements.get(text);
    if (known) {
      statements.delete(text);
      statements.set(text, known);
      return known;
    }
    const messages: Uint8Array[] = [];
    if (statements.size >= MAX_STATEMENTS) {
      const [oldestText, oldest] = statements.entries().next().value as [string, Statement];
      statements.delete(oldestText);
      messages.push(serialize.close({ type: 'S', name: oldest.name }));
    }
    const name = `gatehouse_embedded_${++named}`;
    messages.push(serialize.parse({ name, text, types: [] }), serialize.describe({ type: 'S', name }), serialize.sync());
    const statement = { name, types: parse.parseDescribeStatementResults(await pglite.execProtocolStream(Buffer.concat(messages))) };
    statements.set(text, statement);
    return statement;
  }

  async function run<T>(text: string, params: readonly unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    const statement = await statementFor(text);
    const message = Buffer.concat([
      serialize.bind({ statement: statement.name, values: serialized(params, statement.types, options) }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    const messages = await pglite.execProtocolStream(message);
    if (!options?.parsers) return parse.parseResults(messages, pglite.parsers, options)[0] as Results<T>;
    // Given parsers in its options, parseResults copies PGlite's whole map (over 300 types) into a new
    // object on every call (≈ 75 µs, more than the statement's run); drizzle passes parsers with every
    // query. The same lookups, without the copy: the call's parsers over PGlite's through the prototype.
    const parsers: PGlite['parsers'] = Object.assign(Object.create(pglite.parsers) as PGlite['parsers'], options.parsers);
    return parse.parseResults(messages, parsers, { ...options, parsers: undefined })[0] as Results<T>;
  }

  async function query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    if (!params || params.length === 0 || options?.blob || options?.paramTypes) return pglite.query<T>(text, params, options);
    await pglite._checkReady();
    // as PGlite's own query(): not inside another caller's transaction, nor beside another statement
    return pglite._runExclusiveTransaction(() =>
      pglite._runExclusiveQuery(async () => {
        try {
          return await run<T>(text, params, options);
        } catch (error) {
          if (codeOf(error) !== UNKNOWN_STATEMENT) throw error;
          statements.delete(text);
          return run<T>(text, params, options);
        }
      }),
    );
  }

  return replacingMethod(pglite, 'query', query);
}
