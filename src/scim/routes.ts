// /scim/v2: SCIM 2.0 (RFC 7644) over the SCIM use cases. Every request: the admin API's bearer token
// check (a service client bound to a tenant, with the `scim` scope) → the use case → a SCIM resource
// as application/scim+json. Every error is a SCIM Error (status as a string, scimType where RFC 7644
// §3.12 defines one) with its 4xx; 401 carries WWW-Authenticate (RFC 6750 §3).
import Router, { type RouterMiddleware } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { GatehouseError, notFound } from '../domain/errors.ts';
import { serviceContext } from './context.ts';
import { scimTypeOf } from '../domain/scim/errors.ts';
import { ERROR_SCHEMA } from '../domain/scim/user-model.ts';
import type { Scim } from '../domain/scim/service.ts';
import type { ApiAuth } from '../api/auth.ts';
import { SCIM_SCOPE } from '../oidc/provider.ts';
import type { Logger } from '../http/logger.ts';
import { loggerOf, requestIdOf } from '../http/request-context.ts';
import { toErrorResponse } from '../http/errors.ts';
import { parseJson } from '../http/body.ts';
import { scimDiscovery } from './discovery.ts';

export const SCIM_PREFIX = '/scim/v2';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const REALM = 'gatehouse-scim';

export interface ScimRouterOptions {
  scim: Scim;
  auth: ApiAuth;
  issuer: string;
  logger: Logger;
}

function scimErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) throw notFound('There is no such SCIM endpoint: see /scim/v2/ResourceTypes.', 'not_found');
    } catch (err) {
      const response = toErrorResponse(err);
      const log = loggerOf(ctx, logger);
      if (response.status >= 500) log.error({ err }, 'scim request failed');
      else log.info({ code: response.code, status: response.status, detail: err instanceof GatehouseError ? err.detail : undefined }, 'scim request refused');
      for (const [k, v] of Object.entries(response.headers)) ctx.set(k, v);
      if (response.status === 401) {
        // no credentials: the challenge alone; a bad token: the error too (RFC 6750 §3.1)
        const sent = Boolean(ctx.get('Authorization'));
        ctx.set('WWW-Authenticate', sent ? `Bearer realm="${REALM}", error="invalid_token", error_description="${response.message.replace(/["\\]/g, '')}"` : `Bearer realm="${REALM}"`);
      }
      if (err instanceof GatehouseError && err.code === 'insufficient_scope') ctx.set('WWW-Authenticate', `Bearer realm="${REALM}", error="insufficient_scope", scope="${SCIM_SCOPE}"`);
      const scimType = scimTypeOf(err);
      ctx.status = response.status;
      ctx.type = SCIM_CONTENT_TYPE;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { schemas: [ERROR_SCHEMA], status: String(response.status), ...(scimType ? { scimType } : {}), detail: `${response.message} (request ${requestIdOf(ctx)})` };
    }
  };
}

/** A non-negative integer query parameter, or undefined when absent. */
function integerParam(ctx: Context, name: string): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^-?\d{1,9}$/.test(raw)) throw new GatehouseError('invalidValue', 400, `${name} must be an integer.`);
  return Number(raw);
}

function stringParam(ctx: Context, name: string): string | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new GatehouseError('invalidValue', 400, `${name} is given more than once.`);
  return raw;
}

export function createScimRouter(options: ScimRouterOptions): Middleware {
  const { scim, auth } = options;
  const base = `${options.issuer}${SCIM_PREFIX}`;
  const discovery = scimDiscovery(base);
  const router = new Router({ prefix: SCIM_PREFIX });

  type Handler = (ctx: Context, call: ReturnType<typeof serviceContext>) => Promise<{ status: number; body?: unknown } | undefined>;
  const handle =
    (handler: Handler): Middleware =>
    async (ctx) => {
      const caller = await auth.authenticate(ctx.get('Authorization') || undefined);
      const call = serviceContext(ctx as unknown as Context, caller);
      const result = await handler(ctx as unknown as Context, call);
      ctx.set('Cache-Control', 'no-store');
      if (!result || result.body === undefined) {
        ctx.status = result?.status ?? 204;
        return;
      }
      ctx.status = result.status;
      ctx.type = SCIM_CONTENT_TYPE;
      const resource = result.body as { meta?: { location?: string; version?: string; resourceType?: string } };
      if (resource.meta?.version) ctx.set('ETag', resource.meta.version);
      if (result.status === 201 && resource.meta?.location) ctx.set('Location', resource.meta.location);
      ctx.body = result.body;
    };
  const json = parseJson() as unknown as RouterMiddleware;
  const route = (handler: Handler) => handle(handler) as unknown as RouterMiddleware;
  const listQuery = (ctx: Context) => ({ filter: stringParam(ctx, 'filter'), startIndex: integerParam(ctx, 'startIndex'), count: integerParam(ctx, 'count') });
  const id = (ctx: Context) => (ctx as unknown as { params: Record<string, string> }).params.id ?? '';

  router.get('/ServiceProviderConfig', route(async () => ({ status: 200, body: discovery.serviceProviderConfig })));
  router.get('/ResourceTypes', route(async () => ({ status: 200, body: discovery.resourceTypes })));
  router.get('/ResourceTypes/:id', route(async (ctx) => ({ status: 200, body: discovery.resourceType.get(id(ctx)) ?? notFoundOf('resource type') })));
  router.get('/Schemas', route(async () => ({ status: 200, body: discovery.schemas })));
  router.get('/Schemas/:id', route(async (ctx) => ({ status: 200, body: discovery.schema.get(id(ctx)) ?? notFoundOf('schema') })));

  router.get('/Users', route(async (ctx, call) => ({ status: 200, body: await scim.listUsers(call, listQuery(ctx)) })));
  router.post('/Users', json, route(async (ctx, call) => ({ status: 201, body: await scim.createUser(call, ctx.request.body) })));
  router.get('/Users/:id', route(async (ctx, call) => ({ status: 200, body: await scim.getUser(call, id(ctx)) })));
  router.put('/Users/:id', json, route(async (ctx, call) => ({ status: 200, body: await scim.replaceUser(call, id(ctx), ctx.request.body) })));
  router.patch('/Users/:id', json, route(async (ctx, call) => ({ status: 200, body: await scim.patchUser(call, id(ctx), ctx.request.body) })));
  router.delete('/Users/:id', route(async (ctx, call) => {
    await scim.deleteUser(call, id(ctx));
    return { status: 204 };
  }));

  router.get('/Groups', route(async (ctx, call) => ({ status: 200, body: await scim.listGroups(call, listQuery(ctx)) })));
  router.get('/Groups/:id', route(async (ctx, call) => ({ status: 200, body: await scim.getGroup(call, id(ctx)) })));
  router.patch('/Groups/:id', json, route(async (ctx, call) => ({ status: 200, body: await scim.patchGroup(call, id(ctx), ctx.request.body) })));

  const routes = router.routes() as unknown as Middleware;
  const wrongMethod = () => new GatehouseError('method_not_allowed', 405, 'This SCIM endpoint does not accept that HTTP method.');
  const allowed = router.allowedMethods({ throw: true, methodNotAllowed: wrongMethod, notImplemented: wrongMethod }) as unknown as Middleware;
  const errors = scimErrors(options.logger);
  return (ctx, next) =>
    errors(ctx, async () => {
      await routes(ctx, async () => {
        await allowed(ctx, next);
      });
    });
}

function notFoundOf(what: string): never {
  throw notFound(`No such ${what}.`);
}
