// The OpenAPI 3.1 document of /api/v1, generated from the operation table and its zod schemas (zod's
// JSON Schema output is draft 2020-12, which OpenAPI 3.1 uses as is).
import { z } from 'zod';
import { apiResource, type API_SCOPES } from '../oidc/provider.ts';
import type { Operation } from './operations.ts';
import { registry } from './schemas.ts';

type Json = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** zod's output, without the keys that only make sense for a standalone schema, and without the long format regexes. */
function clean(schema: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === '$id') continue;
    if (key === 'pattern' && typeof schema.format === 'string') continue;
    if (Array.isArray(value)) out[key] = value.map((v: unknown) => (typeof v === 'object' && v !== null ? clean(v as Json) : v));
    else if (typeof value === 'object' && value !== null) out[key] = clean(value as Json);
    else out[key] = value;
  }
  return out;
}

/** Named schemas become references to components; others are inlined. */
const toJson = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const id = registry.get(schema)?.id;
  return id ? ref(id) : clean(z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json);
};

/** Path or query parameters, one per property of an object schema. */
function parameters(schema: z.ZodType, location: 'path' | 'query'): Json[] {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Json>; required?: string[] };
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = clean(property);
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid (the message names the field).',
  401: 'No access token, or one that is expired or not for this API.',
  403: 'The token lacks the scope, or the caller may not do this to this target.',
  404: 'Not found, or outside what the caller may see.',
  409: 'The change conflicts with the current state.',
};

const errorResponse = (status: number) => ({ description: ERROR_DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: ref('Error') } } });

export function buildOpenApi(operations: readonly Operation[], issuer: string): Json {
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' }) as { schemas: Record<string, Json> };
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of operations) {
    const responses: Record<string, Json> = {};
    if (op.status === 204) responses['204'] = { description: 'Done.' };
    else if (op.csv) responses[String(op.status)] = { description: 'CSV, one event per line, header first.', content: { 'text/csv': { schema: { type: 'string' } } } };
    else if (op.response) responses[String(op.status)] = { description: op.summary, content: { 'application/json': { schema: toJson(op.response, 'output') } } };
    for (const status of [400, 401, 403, ...(op.notFound ? [404] : []), ...(op.conflict ? [409] : [])]) responses[String(status)] = errorResponse(status);
    paths[op.path] ??= {};
    const pathParams = parameters(op.params, 'path');
    const queryParams = parameters(op.query, 'query');
    paths[op.path]![op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      description: op.description,
      tags: [op.tag],
      security: [{ gatehouse: [...op.scopes] }],
      ...(pathParams.length + queryParams.length > 0 ? { parameters: [...pathParams, ...queryParams] } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: toJson(op.body, 'input') } } } } : {}),
      responses,
    };
  }
  const tags = [...new Set(operations.map((o) => o.tag))].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse admin API',
      version: '1.0.0',
      description:
        'Manage users, MFA policy, clients, tenants and read the audit log of a Gatehouse tenant. Authorize with a Gatehouse-issued access token (JWT, `at+jwt`) for the resource ' +
        `\`${apiResource(issuer)}\`: a service client bound to a tenant gets one with the client credentials grant and the scopes it was registered for; the admin console uses its signed-in user's token. ` +
        'Errors are `{error, message, request_id}`. Lists are paged with `limit` and the `next_cursor` of the previous page.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: `${issuer}/api/v1` }],
    tags,
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, clean(v)])),
      securitySchemes: {
        gatehouse: {
          type: 'oauth2',
          description: 'Client credentials (service clients) or authorization code with PKCE (Gatehouse’s own consoles), with `resource` set to the API.',
          flows: {
            clientCredentials: { tokenUrl: `${issuer}/token`, scopes: SCOPE_DESCRIPTIONS },
            authorizationCode: { authorizationUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, scopes: SCOPE_DESCRIPTIONS },
          },
        },
      },
    },
  };
}

const SCOPE_DESCRIPTIONS = {
  'users:read': 'List users and their MFA Status; read the MFA policy',
  'users:write': 'Change roles, deactivate and reactivate users, end their sessions',
  'mfa:reset': "Reset a user's MFA",
  'policy:write': 'Change the MFA policy of a partner tenant',
  'clients:write': 'Register and change clients (platform) or see the clients bound to your tenant',
  'audit:read': 'Read and export the audit log',
  'tenants:write': 'Create organizations and sub-resellers',
  'idps:write': 'Connect upstream identity providers (platform: global; partner admins: their tenant)',
  scim: 'Provision the tenant’s users and roles over SCIM 2.0 at /scim/v2 (service clients bound to a tenant)',
} as const satisfies Record<(typeof API_SCOPES)[number], string>;

const TAG_DESCRIPTIONS: Record<string, string> = {
  Session: 'The caller itself.',
  Tenants: 'The tenant tree below your tenant.',
  Users: 'User Management: accounts, roles, status, sessions, MFA Status.',
  'MFA policy': 'Enforce MFA for all partner users / for all organizations (partners only).',
  Clients: 'Applications that sign users in through Gatehouse.',
  'Audit log': 'Who did what to whom.',
  'Identity providers': 'Upstream OpenID Connect providers users sign in through, with Gatehouse MFA on top.',
};
