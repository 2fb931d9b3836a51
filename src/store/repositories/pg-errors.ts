// Recognising PostgreSQL errors behind drizzle's wrapper (DrizzleQueryError keeps the driver error as
// `cause`); node-postgres and PGlite both report the SQLSTATE `code` and the `constraint` name.

interface PgErrorFields {
  code: string;
  constraint: string | undefined;
}

function pgError(e: unknown): PgErrorFields | undefined {
  let current: unknown = e;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const fields = current as Error & { code?: unknown; constraint?: unknown };
    if (typeof fields.code === 'string' && /^[0-9A-Z]{5}$/.test(fields.code)) {
      return { code: fields.code, constraint: typeof fields.constraint === 'string' ? fields.constraint : undefined };
    }
    current = current.cause;
  }
  return undefined;
}

/** true when `e` is a unique violation (23505), of `constraint` when given. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const info = pgError(e);
  return info?.code === '23505' && (constraint === undefined || info.constraint === constraint);
}

/** true when `e` is a foreign-key violation (23503). */
export function isForeignKeyViolation(e: unknown): boolean {
  return pgError(e)?.code === '23503';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids from outside (URLs, cookies) are checked before they reach a uuid column, which would reject them with an error. */
export const isUuid = (value: string) => UUID.test(value);

