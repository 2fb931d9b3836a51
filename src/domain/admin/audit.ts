// The audit log: who did what to whom. An admin reads the events of its own tenant and of the
// organizations directly under it (the same scope it manages); platform operators read everything.
// Filters: actor, target, action, tenant, time range; newest first, cursor pagination; CSV export.
import { z } from 'zod';
import type { AuditEvent } from '../../store/repositories/audit.ts';
import { badRequest, notFound } from '../errors.ts';
import { managedTenantIds } from '../tenant-tree.ts';
import { actorFields, authorize, tenantByRef, tenantTarget, type AdminContext, type AdminDeps } from './context.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, encodeCursor, type Page } from './cursor.ts';

export interface AuditFilter {
  /** an account id, `cli`, or `client:<client_id>`. */
  actor?: string | undefined;
  target?: string | undefined;
  action?: string | undefined;
  /** id or slug; default every tenant the actor may read. */
  tenant?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

export interface AuditEntry {
  id: number;
  at: Date;
  action: string;
  /** the acting account's id, or `cli` / `client:<id>`; null when nobody was signed in (a failed sign-in). */
  actor: string | null;
  tenantId: string | null;
  target: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  detail: Record<string, unknown>;
}

const auditCursor = z.object({ b: z.number().int().positive() });

/** At most this many events go into one CSV export. */
export const MAX_EXPORT_ROWS = 10_000;

const entry = (e: AuditEvent): AuditEntry => ({
  id: e.id,
  at: e.at,
  action: e.action,
  actor: e.actorAccountId ?? e.actor ?? null,
  tenantId: e.tenantId,
  target: e.target,
  ip: e.ip,
  userAgent: e.userAgent,
  requestId: e.requestId,
  detail: e.detail,
});

const CSV_COLUMNS = ['id', 'at', 'action', 'actor', 'tenant_id', 'target', 'ip', 'user_agent', 'request_id', 'detail'] as const;

/** RFC 4180 quoting; a cell that a spreadsheet would run as a formula is prefixed with ' (OWASP CSV injection). */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvRow = (e: AuditEntry): string =>
  [e.id, e.at, e.action, e.actor, e.tenantId, e.target, e.ip, e.userAgent, e.requestId, e.detail].map(csvCell).join(',');

export const CSV_HEADER = CSV_COLUMNS.join(',');

export function createAuditAdmin(deps: AdminDeps) {
  const { repos, events } = deps;

  /** The tenants whose events the actor may read: undefined means all (platform operators). */
  async function readableTenants(ctx: AdminContext, filter: AuditFilter): Promise<string[] | undefined> {
    if (filter.tenant) {
      const tenant = await tenantByRef(repos, filter.tenant);
      await authorize(deps, ctx, 'view_audit', tenantTarget(tenant), { visibleWith: 'view_audit', notFoundMessage: `No tenant with id or slug "${filter.tenant}".` });
      return [tenant.id];
    }
    const home = await repos.tenants.findById(ctx.actor.tenantId);
    if (!home) throw notFound('Your tenant no longer exists.', 'tenant_not_found');
    await authorize(deps, ctx, 'view_audit', tenantTarget(home));
    if (ctx.actor.platformOperator) return undefined;
    return managedTenantIds(home, await repos.tenants.listChildren(home.id));
  }

  function check(filter: AuditFilter) {
    if (filter.since && filter.until && filter.since.getTime() >= filter.until.getTime()) {
      throw badRequest('"since" must be earlier than "until".', 'invalid_time_range');
    }
  }

  async function page(tenantIds: string[] | undefined, filter: AuditFilter, limit: number, before: number | undefined) {
    return repos.audit.list({
      tenantIds,
      actor: filter.actor || undefined,
      target: filter.target || undefined,
      action: filter.action || undefined,
      since: filter.since,
      until: filter.until,
      limit,
      before,
    });
  }

  return {
    async list(ctx: AdminContext, filter: AuditFilter & { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<AuditEntry>> {
      check(filter);
      const tenantIds = await readableTenants(ctx, filter);
      const limit = Math.min(Math.max(filter.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
      const rows = await page(tenantIds, filter, limit + 1, decodeCursor(filter.cursor, auditCursor)?.b);
      const items = rows.slice(0, limit).map(entry);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last ? encodeCursor({ b: last.id }) : null };
    },

    /** Every matching event (up to MAX_EXPORT_ROWS) as CSV lines, header first; the export itself is audited. */
    async exportCsv(ctx: AdminContext, filter: AuditFilter): Promise<{ lines: string[]; rows: number; truncated: boolean }> {
      check(filter);
      const tenantIds = await readableTenants(ctx, filter);
      const lines = [CSV_HEADER];
      let before: number | undefined;
      let rows = 0;
      for (;;) {
        const batch = await page(tenantIds, filter, Math.min(1000, MAX_EXPORT_ROWS - rows), before);
        for (const e of batch) lines.push(csvRow(entry(e)));
        rows += batch.length;
        const last = batch[batch.length - 1];
        if (!last || batch.length < 1000 || rows >= MAX_EXPORT_ROWS) break;
        before = last.id;
      }
      await events.emit({
        action: 'audit.exported',
        ...actorFields(ctx.actor),
        tenantId: ctx.actor.kind === 'cli' ? undefined : ctx.actor.tenantId,
        ...ctx.request,
        detail: { rows, filter: { ...filter, since: filter.since?.toISOString(), until: filter.until?.toISOString() } },
      });
      return { lines, rows, truncated: rows >= MAX_EXPORT_ROWS };
    },
  };
}

export type AuditAdmin = ReturnType<typeof createAuditAdmin>;
