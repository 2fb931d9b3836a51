// Per-router body parsing (oidc-provider parses its own bodies, so there is no global parser).
// Every failure is a GatehouseError with a clear message: 415 wrong type, 413 too large, 400 malformed.
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import { GatehouseError } from '../domain/errors.ts';

export const FORM_LIMIT_BYTES = 64 * 1024;
export const JSON_LIMIT_BYTES = 1024 * 1024;

const FORM_TYPES = ['application/x-www-form-urlencoded'];
const JSON_TYPES = ['application/json', 'application/*+json'];
const BODY_METHODS = ['POST', 'PUT', 'PATCH'];

export interface BodyLimitOptions {
  /** Largest accepted body in bytes. */
  limitBytes?: number;
}

type BodyKind = 'form' | 'json';

const describeLimit = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB` : `${Math.round(bytes / 1024)} KB`;

/** Maps a co-body/raw-body failure to a GatehouseError; 5xx-looking failures become 400 too. */
export function bodyError(err: unknown, kind: BodyKind, limitBytes: number): GatehouseError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { status?: unknown; type?: unknown; message?: unknown };
  const type = typeof e.type === 'string' ? e.type : '';
  const detail = `${type || 'body error'}: ${typeof e.message === 'string' ? e.message : String(err)}`;
  if (e.status === 413 || type === 'entity.too.large') {
    return new GatehouseError('payload_too_large', 413, `The request body is too large. The limit is ${describeLimit(limitBytes)}.`, detail);
  }
  if (e.status === 415 || type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new GatehouseError('unsupported_media_type', 415, 'The request body uses an encoding or character set that is not supported. Send it as UTF-8 without compression.', detail);
  }
  if (type === 'request.aborted') {
    return new GatehouseError('request_aborted', 400, 'The request was interrupted before its body arrived.', detail);
  }
  return kind === 'json'
    ? new GatehouseError('invalid_json', 400, 'The request body is not valid JSON. Send a JSON object or array.', detail)
    : new GatehouseError('invalid_form', 400, 'The form data could not be read. Reload the page and try again.', detail);
}

const hasContent = (ctx: Context): boolean => {
  if (ctx.req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(ctx.req.headers['content-length'] ?? '0');
  return Number.isFinite(length) && length > 0;
};

function parser(kind: BodyKind, types: string[], limitBytes: number, unsupportedMessage: string): Middleware {
  const inner = bodyParser({
    enableTypes: [kind],
    extendTypes: { [kind]: types },
    parsedMethods: BODY_METHODS,
    ...(kind === 'json' ? { jsonLimit: limitBytes, jsonStrict: true } : { formLimit: limitBytes }),
    onError: (err) => {
      throw bodyError(err, kind, limitBytes);
    },
  });
  return async (ctx, next) => {
    if (BODY_METHODS.includes(ctx.method) && hasContent(ctx) && !ctx.request.is(types)) {
      throw new GatehouseError('unsupported_media_type', 415, unsupportedMessage, `content-type: ${ctx.get('Content-Type') || '(none)'}`);
    }
    // A body-less POST still gets an empty object, so handlers can always read fields.
    await inner(ctx, async () => {
      ctx.request.body ??= {};
      await next();
    });
  };
}

/** Parses `application/x-www-form-urlencoded` bodies (default limit 64 KB) into `ctx.request.body`. */
export const parseForm = (options: BodyLimitOptions = {}): Middleware =>
  parser('form', FORM_TYPES, options.limitBytes ?? FORM_LIMIT_BYTES, 'This address accepts form submissions only (application/x-www-form-urlencoded).');

/** Parses JSON bodies (object or array; default limit 1 MB) into `ctx.request.body`. */
export const parseJson = (options: BodyLimitOptions = {}): Middleware =>
  parser('json', JSON_TYPES, options.limitBytes ?? JSON_LIMIT_BYTES, 'This address accepts JSON only. Send the body with Content-Type: application/json.');

/** The parsed body as a record of fields (empty when there is none or it is not an object). */
export function bodyFields(ctx: Context): Record<string, unknown> {
  const body: unknown = ctx.request.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
