// The one error middleware (DESIGN.md §11, §12.5): GatehouseError, client HttpErrors and anything
// else become a JSON error or an HTML page with a request id — never a stack trace.
import { HttpError } from 'koa';
import type { Context, Middleware } from 'koa';
import { GatehouseError } from '../domain/errors.ts';
import type { Logger } from './logger.ts';
import { loggerOf, requestIdOf } from './request-context.ts';
import type { ViewRenderer } from './views.ts';
import { RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, isStoreUnavailable, providerOutage, unavailableError } from './unavailable.ts';

export interface ErrorResponse {
  status: number;
  code: string;
  message: string;
  /** Extra headers worth keeping (Allow, Retry-After, WWW-Authenticate) from an HttpError. */
  headers: Record<string, string>;
}

export const GENERIC_SERVER_ERROR =
  'Something went wrong on our side. Please try again in a moment. If it keeps happening, contact your administrator and quote the request id.';
export const NOT_FOUND_MESSAGE = "We couldn't find that page. Check the address, or go back and try again.";

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
};

const HEADING_BY_STATUS: Record<number, string> = {
  400: 'That request could not be handled',
  401: 'Please sign in',
  403: 'This action is not allowed',
  404: 'Page not found',
  405: 'That action is not available here',
  409: 'That change could not be made',
  413: 'That was too much data',
  415: 'That request could not be read',
  429: 'Too many attempts',
};

/** Page heading for a status (error.ejs shows it above the message). */
export const headingFor = (status: number): string =>
  HEADING_BY_STATUS[status] ?? (status >= 500 ? 'Something went wrong' : 'That request could not be handled');

const SAFE_CODE = /^[a-z][a-z0-9_]{0,63}$/;
const KEPT_HEADERS = new Set(['allow', 'retry-after', 'www-authenticate']);

/** Classifies a thrown value; only client errors (status < 500) expose their message. */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof GatehouseError) {
    // 4xx and deliberate 502/503/504 ("mail could not be sent") speak for themselves; a 500 is a bug
    // or an internal failure whose message may name internals, so it gets the generic sentence.
    if (err.status >= 400 && err.status < 600 && err.status !== 500) {
      const headers: Record<string, string> = err.status === 503 ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {};
      return { status: err.status, code: err.code, message: err.message, headers };
    }
    return { status: 500, code: 'server_error', message: GENERIC_SERVER_ERROR, headers: {} };
  }
  if (err instanceof HttpError && err.status >= 400 && err.status < 500 && err.expose) {
    // oidc-provider errors (SessionNotFound…) carry `error`/`error_description`; plain HttpErrors don't.
    const e = err as typeof err & { error?: unknown; error_description?: unknown };
    const code = typeof e.error === 'string' && SAFE_CODE.test(e.error) ? e.error : (CODE_BY_STATUS[err.status] ?? 'invalid_request');
    const message = typeof e.error_description === 'string' && e.error_description ? e.error_description : err.message;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(err.headers ?? {})) {
      if (KEPT_HEADERS.has(k.toLowerCase()) && typeof v === 'string') headers[k] = v;
    }
    return { status: err.status, code, message, headers };
  }
  // PostgreSQL or Redis down or not answering in time: come back shortly (never a 500)
  if (isStoreUnavailable(err)) {
    return { status: 503, code: 'temporarily_unavailable', message: UNAVAILABLE_MESSAGE, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } };
  }
  return { status: 500, code: 'server_error', message: GENERIC_SERVER_ERROR, headers: {} };
}

/** JSON for API paths and for callers whose Accept prefers JSON over HTML. */
export const prefersJson = (ctx: Context): boolean =>
  ctx.path === '/api' || ctx.path.startsWith('/api/') || ctx.accepts('html', 'json') === 'json';

export interface ErrorHandlerOptions {
  logger: Logger;
  /** Renders views/error.ejs inside the layout; without it browsers get a minimal built-in page. */
  views?: ViewRenderer;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const fallbackPage = (heading: string, message: string, requestId: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(heading)} · Gatehouse</title>` +
  `<link rel="stylesheet" href="/assets/gatehouse.css"></head><body><main><h1>${escapeHtml(heading)}</h1>` +
  `<p>${escapeHtml(message)}</p><p>Request id: <code>${escapeHtml(requestId)}</code></p></main></body></html>`;

/** Headers from a half-built response that must not survive into the error response. */
const STALE_HEADERS = ['Location', 'Content-Disposition', 'Content-Encoding', 'ETag', 'Last-Modified'];

/**
 * Catches everything thrown below it. Place it inside requestContext/metrics/securityHeaders and
 * outside every router and the oidc-provider mount.
 */
export function errorHandler(options: ErrorHandlerOptions): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // oidc-provider answered a store outage on its own endpoints with 500 server_error
      const outage = providerOutage(ctx);
      if (outage !== undefined && ctx.status === 500) throw unavailableError(outage);
    } catch (err) {
      const response = toErrorResponse(err);
      const requestId = requestIdOf(ctx);
      const log = loggerOf(ctx, options.logger);
      if (response.status >= 500) log.error({ err, status: response.status }, 'request failed');
      else log.info({ code: response.code, status: response.status, detail: err instanceof GatehouseError ? err.detail : undefined }, 'request refused');

      if (ctx.headerSent || !ctx.writable) return; // too late to answer; the log line is all we can do
      for (const h of STALE_HEADERS) ctx.remove(h);
      for (const [k, v] of Object.entries(response.headers)) ctx.set(k, v);
      ctx.status = response.status;
      ctx.set('Cache-Control', 'no-store');

      if (prefersJson(ctx)) {
        ctx.body = { error: response.code, error_description: response.message, request_id: requestId };
        return;
      }
      const heading = headingFor(response.status);
      const locals = { title: heading, heading, message: response.message, status: response.status, code: response.code, requestId };
      try {
        if (!options.views) throw new Error('no view renderer');
        await options.views.render(ctx, 'error', locals);
        ctx.status = response.status;
      } catch (renderErr) {
        if (options.views) log.error({ err: renderErr }, 'error page could not be rendered');
        ctx.body = fallbackPage(heading, response.message, requestId);
        ctx.set('Content-Type', 'text/html; charset=utf-8');
      }
    }
  };
}

export const METHOD_NOT_ALLOWED_MESSAGE = 'That action is not available at this address.';

/**
 * Turns "nothing answered" into a proper page/JSON: after the handlers, a 404 without a body (and
 * without `ctx.respond = false`, which a raw-mounted oidc-provider uses) becomes GatehouseError
 * `not_found`; a bodiless 405 from a router's allowedMethods() becomes `method_not_allowed`, keeping
 * the router's `Allow` header. Place it right inside errorHandler.
 */
export function notFoundHandler(): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.body != null || ctx.respond === false || ctx.headerSent) return;
    if (ctx.status === 404) throw new GatehouseError('not_found', 404, NOT_FOUND_MESSAGE);
    if (ctx.status === 405) throw new GatehouseError('method_not_allowed', 405, METHOD_NOT_ALLOWED_MESSAGE);
  };
}
