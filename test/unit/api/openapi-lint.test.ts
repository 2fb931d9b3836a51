// The admin API's OpenAPI 3.1 document (generated from the zod schemas) passes Redocly's
// `recommended` ruleset with no error and no warning, so CI fails when a schema or an operation
// description breaks the document.
import { describe, expect, it } from '@jest/globals';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { apiOperations } from '../../../src/api/operations.ts';
import { buildOpenApi } from '../../../src/api/openapi.ts';
import type { Admin } from '../../../src/domain/admin/index.ts';
import type { ApiExtras } from '../../../src/api/operations.ts';

// The document only needs the operations' shapes; their handlers are never called here.
const document = buildOpenApi(apiOperations({} as Admin, {} as ApiExtras), 'https://id.gatehouse.test');

describe('OpenAPI document of /api/v1', () => {
  it('passes the Redocly recommended ruleset without problems', async () => {
    const config = await createConfig({ extends: ['recommended'], rules: { 'info-license-strict': 'error' } });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: 'openapi.json', config });
    const report = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location.map((l) => l.pointer).join(', ')}`);
    expect(report).toEqual([]);
  });

  it('is OpenAPI 3.1 with one operation per use case and every error answer in the shared shape', () => {
    expect(document.openapi).toBe('3.1.0');
    const paths = document.paths as Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    const operations = Object.values(paths).flatMap((methods) => Object.values(methods));
    expect(operations.map((o) => o.operationId).sort()).toEqual(
      [
        'createClient', 'createIdp', 'createTenant', 'deleteIdp', 'getIdp', 'listIdps', 'updateIdp', 'deleteClient', 'disableClient', 'enableClient', 'endUserSessions', 'exportAuditEvents', 'getClient', 'getMe',
        'getPolicy', 'getUser', 'importUsers', 'listAuditEvents', 'listClients', 'listTenants', 'listUsers', 'rotateClientSecret', 'setUserRole', 'setUserStatus',
        'updateClient', 'updatePolicy', 'inviteUser', 'resendInvitation', 'resetUserMfa',
      ].sort(),
    );
    for (const o of operations) {
      for (const status of ['400', '401', '403']) expect(o.responses[status]?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
  });
});
