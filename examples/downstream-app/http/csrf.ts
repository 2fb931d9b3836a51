/**
 * Synchronizer-token CSRF protection: each session has a random token, every form posts it back in
 * `_csrf`, and unsafe requests without the session's token are refused (DESIGN.md §9 spirit).
 */
import { timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { AppError } from './errors.ts';
import type { SessionState } from './sessions.ts';

export const CSRF_FIELD = '_csrf';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function tokensMatch(expected: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function csrfMiddleware(): Middleware<SessionState> {
  return async (ctx, next) => {
    if (UNSAFE.has(ctx.method)) {
      const body = ctx.request.body as Record<string, unknown> | undefined;
      if (!tokensMatch(ctx.state.session.csrfToken, body?.[CSRF_FIELD])) {
        throw new AppError('csrf_failed', 403, 'The form expired or was sent from another site. Go back, reload the page and try again.');
      }
    }
    await next();
  };
}
