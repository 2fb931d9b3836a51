/**
 * One error type for the demo app: a stable `code`, an HTTP `status`, a sentence for the user and a
 * log-only `detail`. The middleware turns it into the error page (or JSON for machine endpoints);
 * anything else becomes a generic 500 with a request id, never a stack trace.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly userMessage: string;
  readonly detail: string | undefined;

  constructor(code: string, status: number, userMessage: string, detail?: string) {
    super(detail ?? userMessage);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.userMessage = userMessage;
    this.detail = detail;
  }
}

export interface ErrorState {
  requestId: string;
}

export type ErrorPageRenderer = (ctx: Context, status: number, message: string, code: string) => Promise<void>;

export function errorMiddleware(logger: Logger, renderPage: ErrorPageRenderer): Middleware<ErrorState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('not_found', 404, 'This page does not exist.');
      }
    } catch (error) {
      const known = error instanceof AppError ? error : undefined;
      const status = known?.status ?? 500;
      const code = known?.code ?? 'server_error';
      const message = known?.userMessage ?? 'Something went wrong on our side.';
      if (status >= 500) logger.error({ err: error, requestId: ctx.state.requestId }, 'request failed');
      else logger.info({ code, detail: known?.detail, requestId: ctx.state.requestId }, 'request refused');
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      if (!ctx.accepts('html')) {
        ctx.body = { error: code, error_description: message };
        return;
      }
      await renderPage(ctx, status, message, code);
    }
  };
}
