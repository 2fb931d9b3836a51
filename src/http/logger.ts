// Structured JSON logs (DESIGN.md §11): one pino logger per process, secrets and codes never logged.
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
 * Creates the process logger: JSON lines with ISO time and level names, secrets redacted.
 * `destination` is for tests (capture lines); by default pino writes to stdout.
 */
/**
 * drizzle puts the parameters of a failed query into the error message (emails, digests); the log
 * keeps the statement and drops the values.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  for (const key of ['message', 'stack'] as const) {
    const value = serialized[key];
    if (typeof value === 'string') serialized[key] = value.replace(/\nparams: [^\n]*/g, '\nparams: [redacted]');
  }
  return serialized;
}

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = {
    serializers: { err: serializeError, error: serializeError },
    name: 'gatehouse',
    level: config.logLevel,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
