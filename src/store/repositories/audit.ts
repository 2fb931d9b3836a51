// Audit events (DESIGN.md §12.7): past-tense actions, newest first when listed.
import { and, desc, eq, gte, inArray, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { auditEvents } from '../schema.ts';
import { GatehouseError } from '../../domain/errors.ts';
import { isUuid } from './pg-errors.ts';

export type AuditEvent = typeof auditEvents.$inferSelect;

export interface NewAuditEvent {
  action: string;
  actorAccountId?: string | null | undefined;
  actor?: string | null | undefined;
  tenantId?: string | null | undefined;
  target?: string | null | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  requestId?: string | null | undefined;
  detail?: Record<string, unknown> | undefined;
}

export interface AuditQuery {
  tenantId?: string | undefined;
  /** only events of these tenants (an empty list matches nothing); combined with tenantId when both are given. */
  tenantIds?: readonly string[] | undefined;
  action?: string | undefined;
  target?: string | undefined;
  /** an account id (matches actor_account_id) or a non-account actor such as `cli` or `client:<id>`. */
  actor?: string | undefined;
  /** recorded at or after this instant. */
  since?: Date | undefined;
  /** recorded before this instant. */
  until?: Date | undefined;
  limit: number;
  /** a page cursor: events with a smaller id (a number), or recorded earlier (a Date). */
  before?: number | Date | undefined;
}

export interface AuditRepo {
  record(event: NewAuditEvent): Promise<AuditEvent>;
  list(query: AuditQuery): Promise<AuditEvent[]>;
}

const MAX_PAGE = 1000;

/** The row of an event (also written in batches: src/store/request-writes.ts). */
export const auditRow = (event: NewAuditEvent) => ({
  action: event.action,
  actorAccountId: event.actorAccountId ?? null,
  actor: event.actor ?? null,
  tenantId: event.tenantId ?? null,
  target: event.target ?? null,
  ip: event.ip ?? null,
  userAgent: event.userAgent ?? null,
  requestId: event.requestId ?? null,
  detail: event.detail ?? {},
});

export function createAuditRepo(db: Db): AuditRepo {
  return {
    async record(event) {
      const [row] = await db
        .insert(auditEvents)
        .values(auditRow(event))
        .returning();
      if (!row) throw new GatehouseError('audit_not_recorded', 500, 'The audit event could not be recorded.');
      return row;
    },

    async list(query) {
      const conditions: SQL[] = [];
      if (query.tenantId !== undefined) {
        if (!isUuid(query.tenantId)) return [];
        conditions.push(eq(auditEvents.tenantId, query.tenantId));
      }
      if (query.tenantIds !== undefined) {
        const ids = query.tenantIds.filter(isUuid);
        if (ids.length === 0) return [];
        conditions.push(inArray(auditEvents.tenantId, ids));
      }
      if (query.actor !== undefined) conditions.push(isUuid(query.actor) ? eq(auditEvents.actorAccountId, query.actor) : eq(auditEvents.actor, query.actor));
      if (query.since !== undefined) conditions.push(gte(auditEvents.at, query.since));
      if (query.until !== undefined) conditions.push(lt(auditEvents.at, query.until));
      if (query.action !== undefined) conditions.push(eq(auditEvents.action, query.action));
      if (query.target !== undefined) conditions.push(eq(auditEvents.target, query.target));
      if (query.before instanceof Date) conditions.push(lt(auditEvents.at, query.before));
      else if (query.before !== undefined) conditions.push(lt(auditEvents.id, query.before));
      const limit = Math.min(Math.max(1, Math.floor(query.limit)), MAX_PAGE);
      return db
        .select()
        .from(auditEvents)
        .where(and(...conditions))
        .orderBy(desc(auditEvents.id))
        .limit(limit);
    },
  };
}
