// /api/v1: the JSON admin API. Every request: bearer token → caller → scope check → zod-parsed
// params, query and body → the use case → a response checked against its schema. Errors are
// `{error, message, request_id}` with the right 4xx (RFC 6750 headers on 401/403), never a stack trace.
import Router, { type RouterMiddleware } from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import { GatehouseError, notFound } from '../domain/errors.ts';
import type { Admin } from '../domain/admin/index.ts';
import type { Logger } from '../http/logger.ts';
import { loggerOf, requestIdOf } from '../http/request-context.ts';
import { toErrorResponse } from '../http/errors.ts';
import { parseJson } from '../http/body.ts';
import type { ViewRenderer } from '../http/views.ts';
import type { ApiAuth } from './auth.ts';
import { apiOperations, type ApiExtras, type CsvBody, type Operation } from './operations.ts';
import { buildOpenApi } from './openapi.ts';
import { csvCell } from '../domain/admin/audit.ts';

export const API_PREFIX = '/api/v1';

export interface ApiRouterOptions {
  admin: Admin;
  auth: ApiAuth;
  issuer: string;
  logger: Logger;
  views: ViewRenderer;
  extras: ApiExtras;
}

/** The first problem zod found, as a sentence naming the field. */
export function describeIssue(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  if (!issue) return `The ${where} is not valid.`;
  const field = issue.path.length ? issue.path.join('.') : undefined;
  if (issue.code === 'unrecognized_keys') return `The ${where} has unknown field(s): ${issue.keys.join(', ')}.`;
  return field ? `${where} field "${field}": ${issue.message}.` : `The ${where} is not valid: ${issue.message}.`;
}

const invalid = (message: string) => new GatehouseError('invalid_request', 400, message);

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(describeIssue(parsed.error, where).replace(/^./, (c) => c.toUpperCase()));
  return parsed.data;
}

/** `{error, message, request_id}` for everything thrown inside /api. */
function apiErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) throw notFound('There is no such API operation. See /api/v1/openapi.json.', 'not_found');
    } catch (err) {
      const response = toErrorResponse(err);
      const requestId = requestIdOf(ctx);
      const log = loggerOf(ctx, logger);
      if (response.status >= 500) log.error({ err }, 'api request failed');
      else log.info({ code: response.code, status: response.status, detail: err instanceof GatehouseError ? err.detail : undefined }, 'api request refused');
      for (const [k, v] of Object.entries(response.headers)) ctx.set(k, v);
      if (response.status === 401) ctx.set('WWW-Authenticate', `Bearer realm="gatehouse-api", error="invalid_token", error_description="${response.message.replace(/["\\]/g, '')}"`);
      if (err instanceof GatehouseError && err.code === 'insufficient_scope') ctx.set('WWW-Authenticate', `Bearer realm="gatehouse-api", error="insufficient_scope", scope="${err.detail ?? ''}"`);
      ctx.status = response.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: response.code, message: response.message, request_id: requestId };
    }
  };
}

const koaPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

const isCsv = (value: unknown): value is CsvBody => typeof value === 'object' && value !== null && Array.isArray((value as CsvBody).csv);

export function createApiRouter(options: ApiRouterOptions): Middleware {
  const { admin, auth, logger } = options;
  const operations = apiOperations(admin, options.extras);
  const document = buildOpenApi(operations, options.issuer);
  const router = new Router({ prefix: API_PREFIX });

  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = document;
  });
  router.get('/reference', async (ctx) => {
    await options.views.render(ctx as unknown as Context, 'api/reference', { title: 'Admin API reference', doc: document, prefix: API_PREFIX });
  });

  const handle = (operation: Operation): Middleware => async (ctx) => {
    const caller = await auth.authenticate(ctx.get('Authorization') || undefined);
    if (operation.scopes.length > 0 && !operation.scopes.some((s) => caller.scopes.has(s))) {
      const needed = operation.scopes.join(' ');
      throw new GatehouseError('insufficient_scope', 403, `This token lacks the scope this operation needs (${operation.scopes.join(' or ')}).`, needed);
    }
    const params = parse(operation.params, { ...(ctx.params as Record<string, string>) }, 'path');
    const query = parse(operation.query, { ...ctx.query }, 'query');
    const body = operation.body ? parse(operation.body, ctx.request.body, 'request body') : undefined;
    const request = { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: requestIdOf(ctx as unknown as Context) };
    const result = await operation.handler({ caller, ctx: { actor: caller.actor, request }, params, query, body });
    ctx.set('Cache-Control', 'no-store');
    if (operation.status === 204) {
      ctx.status = 204;
      return;
    }
    if (operation.csv && isCsv(result)) {
      ctx.status = 200;
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set('Content-Disposition', `attachment; filename=${csvCell(result.filename)}`);
      ctx.body = `${result.csv.join('\r\n')}\r\n`;
      return;
    }
    const checked = operation.response?.safeParse(result);
    if (checked && !checked.success) throw new GatehouseError('invalid_response', 500, 'The response could not be produced.', checked.error.message);
    ctx.status = operation.status;
    ctx.body = checked ? checked.data : result;
  };

  for (const operation of operations) {
    const middleware: Middleware[] = operation.body ? [parseJson(), handle(operation)] : [handle(operation)];
    router.register(koaPath(operation.path), [operation.method.toUpperCase()], middleware as unknown as RouterMiddleware[]);
  }

  const routes = router.routes() as unknown as Middleware;
  const wrongMethod = () => new GatehouseError('method_not_allowed', 405, 'This API operation does not accept that HTTP method. See /api/v1/openapi.json.');
  const allowed = router.allowedMethods({ throw: true, methodNotAllowed: wrongMethod, notImplemented: wrongMethod }) as unknown as Middleware;
  const errors = apiErrors(logger);
  return (ctx, next) =>
    errors(ctx, async () => {
      await routes(ctx, async () => {
        await allowed(ctx, next);
      });
    });
}

