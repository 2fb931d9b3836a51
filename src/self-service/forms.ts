// What the self-service pages share: reading one form field and the request facts audit events record.
import type { Context } from 'koa';
import type { RequestInfo } from '../domain/events.ts';

export type Render = (ctx: Context, template: string, locals: Record<string, unknown>) => Promise<void>;

/** A text field of the parsed form; '' when absent or not text. */
export const field = (ctx: Context, name: string): string => {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : '';
};

export const requestInfo = (ctx: Context): RequestInfo => ({
  ip: ctx.ip,
  userAgent: ctx.get('user-agent') || undefined,
  requestId: ctx.state.requestId as string | undefined,
});
