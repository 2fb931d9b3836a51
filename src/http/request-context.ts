// Request ids and the one access-log line per request (DESIGN.md §11).
import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { requestLineLogger, type Logger } from './logger.ts';
import { routeLabel } from './metrics.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming id is kept only when it is 1–64 characters of a safe set (no spaces, quotes, controls). */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:+=/-]{1,64}$/;

export const isAcceptableRequestId = (value: unknown): value is string =>
  typeof value === 'string' && SAFE_REQUEST_ID.test(value);

export const newRequestId = (): string => randomUUID();

/** The request id set by `requestContext` (or a fresh one when the middleware did not run). */
export function requestIdOf(ctx: Context): string {
  const id: unknown = ctx.state.requestId;
  if (isAcceptableRequestId(id)) return id;
  const fresh = newRequestId();
  ctx.state.requestId = fresh;
  return fresh;
}

/**
 * A child of `logger` carrying the request id, made when a request has something to log (most never
 * do). Not kept on `ctx.state` behind a getter: a getter defined per request gives every request's
 * state object a shape of its own, which V8 handles more slowly than a shape shared by all.
 */
export function loggerOf(ctx: Context, logger: Logger): Logger {
  return logger.child({ requestId: requestIdOf(ctx) });
}

// Path segments that look like opaque ids or tokens (interaction uids, email-link tokens: 16+
// characters with a digit or a capital letter) are masked, so a logged path never carries a usable
// secret; words such as `openid-configuration` stay readable.
const OPAQUE_SEGMENT = /^[A-Za-z0-9_~.=+-]{16,}$/;
const isOpaque = (segment: string) => OPAQUE_SEGMENT.test(segment) && /[0-9A-Z]/.test(segment);

/** The request path without query string, long opaque segments replaced by `:id`. */
export const loggablePath = (path: string): string =>
  path
    .split('/')
    .map((segment) => (isOpaque(segment) ? ':id' : segment))
    .join('/')
    .slice(0, 200);

export interface RequestContextOptions {
  logger: Logger;
  /** Keep a sane incoming `X-Request-Id` (from the load balancer). Default true. */
  trustIncomingId?: boolean;
}

/**
 * The level of a request's line. Answered requests are the bulk of the traffic (thousands of token and
 * introspection requests per second) and are logged at `debug`; refused ones (4xx: a wrong password, a
 * bad client secret, a forged form) at `info`, failures at `error`. Who signed in, failed or was locked
 * out is recorded in the audit log, not read from request lines.
 */
export const requestLineLevel = (status: number): 'debug' | 'info' | 'error' => (status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug');

/**
 * Outermost middleware: assigns `ctx.state.requestId` (`loggerOf` gives a logger carrying it), echoes
 * it in `X-Request-Id`, and logs one JSON line when the handlers are done, at the level
 * `requestLineLevel` gives: method, route, path (no query string), status, duration, request id.
 */
export function requestContext(options: RequestContextOptions): Middleware {
  const trustIncoming = options.trustIncomingId ?? true;
  const lines = requestLineLogger(options.logger);
  return async (ctx, next) => {
    const incoming = ctx.get(REQUEST_ID_HEADER);
    const requestId = trustIncoming && isAcceptableRequestId(incoming) ? incoming : newRequestId();
    ctx.state.requestId = requestId;
    ctx.set(REQUEST_ID_HEADER, requestId);
    const start = process.hrtime.bigint();
    let failed: unknown;
    try {
      await next();
    } catch (err) {
      failed = err;
      throw err;
    } finally {
      const status = failed === undefined ? ctx.status : statusOf(failed);
      const level = requestLineLevel(status);
      if (lines.isLevelEnabled(level)) {
        const durationMs = Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100;
        lines[level]({ requestId, method: ctx.method, route: routeLabel(ctx), path: loggablePath(ctx.path), status, durationMs }, 'request');
      }
    }
  };
}

const statusOf = (err: unknown): number => {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' && s >= 400 && s < 600 ? s : 500;
};
