// Control characters at the edge. PostgreSQL (and PGlite) refuse a NUL byte in text and in jsonb, so
// a `%00` that reached a query or a stored oidc-provider payload used to fail the request with 500.
// Two rules: no request may carry NUL in its query string (a protocol parameter with NUL is refused
// before oidc-provider stores it; path segments never reach a query unhashed), and Gatehouse's own forms accept no control character except tab
// and line breaks (nothing a person types into an email, password or code field needs them).
import type { Middleware } from 'koa';
import { GatehouseError } from '../domain/errors.ts';

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NUL = /\u0000|%00/i;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORM_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** True when a parsed value (string, array, or nested object as qs-style parsers build) contains `pattern`. */
function contains(value: unknown, pattern: RegExp, depth = 0): boolean {
  if (typeof value === 'string') return pattern.test(value);
  if (depth > 5 || typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some((v) => contains(v, pattern, depth + 1));
  return Object.entries(value).some(([k, v]) => pattern.test(k) || contains(v, pattern, depth + 1));
}

/**
 * For every request, before any router or the provider: a NUL byte in the query string (encoded as
 * %00 or not) answers 400 `invalid_request` (JSON `{error, error_description}` for API callers, an
 * error page for browsers).
 */
export function refuseNulInRequest(): Middleware {
  return (ctx, next) => {
    if (NUL.test(ctx.querystring)) {
      throw new GatehouseError('invalid_request', 400, 'The request contains a NUL character, which is never valid here.', 'NUL in the query string');
    }
    return next();
  };
}

/** After a form parser: refuses a form whose field names or values contain control characters. */
export function refuseControlCharacters(): Middleware {
  return (ctx, next) => {
    if (contains(ctx.request.body, FORM_CONTROL)) {
      throw new GatehouseError('invalid_form', 400, 'The form contains control characters, which no field accepts. Remove them and try again.', 'control character in form');
    }
    return next();
  };
}
