// Structured JSON logs: one pino logger per process, one line per request, secrets and codes never logged.
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { Config } from '../config.ts';

export type { Logger };

/** Field names whose values are secrets wherever they appear (top level or up to three levels deep). */
const SECRET_KEYS = [
  'password',
  'current_password',
  'new_password',
  'currentPassword',
  'newPassword',
  'password_hash',
  'passwordHash',
  'secret',
  'client_secret',
  'clientSecret',
  'client_assertion',
  'code_verifier',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'id_token_hint',
  'accessToken',
  'refreshToken',
  'idToken',
  'authorization',
  'cookie',
  'set-cookie',
  'otp',
  'totp',
  'recovery_code',
  'recoveryCode',
  'setup_key',
  'setupKey',
  '_csrf',
  'csrfToken',
] as const;

// `code` is an authorization code or a TOTP/recovery code in requests, but `err.code` is a useful
// error code (ECONNREFUSED, csrf_failed): redact it only where request data sits.
const CODE_PATHS = ['code', 'body.code', 'query.code', 'form.code', 'params.code', 'req.body.code', 'req.query.code'];

const bracket = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`);

/** The pino redaction paths; exported so tests and other loggers can reuse them. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((k) => {
    const tail = bracket(k);
    return [tail.startsWith('.') ? k : tail, `*${tail}`, `*.*${tail}`, `*.*.*${tail}`];
  }),
  ...CODE_PATHS,
];

export const REDACTED = '[redacted]';

/**
 * Fields of an error object that carry the values a query or request worked on rather than a
 * description of the failure: drizzle's DrizzleQueryError keeps the bound `params` (submitted emails,
 * whole stored Interaction and Session payloads); node-postgres errors put the offending row values in
 * `detail` ("Key (email)=(ada@example.com) already exists") and the statement's context in `where`.
 */
const VALUE_FIELDS = ['params', 'parameters', 'values', 'bindings', 'detail', 'where', 'internalQuery'] as const;

/** A database server error (node-postgres / PGlite): its `detail` is data, not a Gatehouse log detail. */
const isDatabaseError = (err: Record<string, unknown>): boolean => typeof err.routine === 'string' || typeof err.severity === 'string';

/** Replaces the text drizzle wrote for `params` (however many lines it spans) wherever it appears. */
function withoutParams(text: string, paramTexts: readonly string[]): string {
  let out = text;
  for (const p of paramTexts) if (p) out = out.split(`params: ${p}`).join(`params: ${REDACTED}`);
  // a message built elsewhere in drizzle's shape: drop the rest of that line
  return out.replace(/\nparams: (?!\[redacted\])[^\n]*/g, `\nparams: ${REDACTED}`);
}

/** The `params` texts of an error and of its causes, as drizzle interpolated them into messages. */
function paramTextsOf(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 5) return [];
  const e = err as { params?: unknown; cause?: unknown };
  const own = e.params !== undefined ? [String(e.params as string)] : [];
  return [...own, ...paramTextsOf(e.cause, depth + 1)];
}

/**
 * The `err` serializer: pino's standard one (type, message and stack with their causes, own fields),
 * then redaction of the error's value-carrying fields, here and in its causes, because the redaction
 * paths only see request-shaped objects (`password`, `token`, …), not what a failed query bound. The
 * statement itself and error codes stay: they are what an operator needs to find the fault.
 */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  const serialized = { ...(pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>) };
  if (typeof err !== 'object' || err === null) return serialized;
  const source = err as Record<string, unknown>;
  const paramTexts = paramTextsOf(err);
  for (const key of ['message', 'stack'] as const) {
    const value = serialized[key];
    if (typeof value === 'string') serialized[key] = withoutParams(value, paramTexts);
  }
  for (const key of VALUE_FIELDS) {
    if (!(key in serialized)) continue;
    // a GatehouseError's `detail` is written for the log; a database error's is row data
    if (key === 'detail' && !isDatabaseError(source)) continue;
    serialized[key] = REDACTED;
  }
  const cause = source.cause;
  if (depth < 5 && typeof cause === 'object' && cause !== null && typeof (cause as { message?: unknown }).message === 'string') {
    serialized.cause = serializeError(cause, depth + 1);
  }
  if (Array.isArray(serialized.aggregateErrors) && Array.isArray(source.errors)) {
    serialized.aggregateErrors = source.errors.map((e: unknown) => serializeError(e, depth + 1));
  }
  return serialized;
}

const requestLineLoggers = new WeakMap<Logger, Logger>();

/**
 * Creates the process logger: JSON lines with ISO time and level names, secrets redacted.
 * `destination` is for tests (capture lines); by default pino writes to stdout ASYNCHRONOUSLY: lines
 * written while a write is in flight are sent together by the next one, so a busy server makes one
 * write per batch instead of one blocking write per line (the request line at `info` cost about half
 * of the token endpoint's throughput with synchronous writes). pino flushes what is pending on exit.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = {
    serializers: { err: (e: unknown) => serializeError(e), error: (e: unknown) => serializeError(e) },
    name: 'gatehouse',
    level: config.logLevel,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const dest = destination ?? pino.destination({ dest: 1, sync: false });
  const logger = pino({ ...options, redact: { paths: [...REDACT_PATHS], censor: REDACTED } }, dest);
  requestLineLoggers.set(logger, pino(options, dest));
  return logger;
}

/**
 * The logger of the one line per request (request-context.ts): the same destination and level as
 * `logger` but without the redaction pass, which costs more than the rest of the line. The request
 * line holds only fields the middleware builds itself (request id, method, route, path with opaque
 * segments masked, status, duration), never request data. A logger not made by createLogger is used
 * as it is.
 */
export const requestLineLogger = (logger: Logger): Logger => requestLineLoggers.get(logger) ?? logger;
