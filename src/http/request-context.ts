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

/** The per-request child logger (carries `requestId`), or `fallback` when the middleware did not run. */
export function loggerOf(ctx: Context, fallback: Logger): Logger {
  const log: unknown = ctx.state.log;
  return isLogger(log) ? log : fallback.child({ requestId: requestIdOf(ctx) });
}

const isLogger = (v: unknown): v is Logger =>
  typeof v === 'object' && v !== null && typeof (v as { child?: unknown }).child === 'function' && typeof (v as { info?: unknown }).info === 'function';

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
 * Outermost middleware: assigns `ctx.state.requestId` (and `ctx.state.log`, a child logger carrying
 * it), echoes it in `X-Request-Id`, and logs one JSON line when the handlers are done, at the level
 * `requestLineLevel` gives: method, route, path (no query string), status, duration, request id.
 */
export function requestContext(options: RequestContextOptions): Middleware {
  const trustIncoming = options.trustIncomingId ?? true;
  const lines = requestLineLogger(options.logger);
  return async (ctx, next) => {
    const incoming = ctx.get(REQUEST_ID_HEADER);
    const requestId = trustIncoming && isAcceptableRequestId(incoming) ? incoming : newRequestId();
    ctx.state.requestId = requestId;
    // The child logger is made on first use: most requests at LOG_LEVEL=warn never log.
    let log: Logger | undefined;
    const logOf = (): Logger => (log ??= options.logger.child({ requestId }));
    Object.defineProperty(ctx.state, 'log', { get: logOf, enumerable: true, configurable: true });
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
