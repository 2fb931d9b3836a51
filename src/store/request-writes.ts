// The audit events, the last-login update and the lockout reset of one request, written in one statement
// when the request ends instead of one round trip each (a sign-in's last page records them all): on the embedded database
// every statement runs on this thread, so each one saved is CPU saved. The statement runs before the
// answer is sent, also when the request failed, so what a request recorded before an error stays
// recorded and a client that reads the audit log after an answer finds it. Outside a request (the CLI,
// start-up) and once a request's writes are written (work deferred until after the answer), each write
// goes straight to the database, as before. A request that records many events (a bulk import) writes
// them in statements of at most MAX_EVENTS_PER_STATEMENT as it goes.
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './db.ts';
import { auditEvents } from './schema.ts';
import { auditRow, type NewAuditEvent } from './repositories/audit.ts';
import { lastLoginUpdate } from './repositories/accounts.ts';
import { lockoutReset } from './repositories/lockouts.ts';
import { isUuid } from './repositories/pg-errors.ts';

/**
 * PostgreSQL takes at most 65,535 parameters in one statement, nine per audit row: an import of 10,000
 * users records up to 20,000 events in one request.
 */
export const MAX_EVENTS_PER_STATEMENT = 1_000;

interface Pending {
  open: boolean;
  events: NewAuditEvent[];
  /** account id → when it signed in. */
  logins: Map<string, Date>;
  /** accounts whose second-factor failures and lock are cleared. */
  lockoutResets: Set<string>;
}

export interface RequestWrites {
  /** Runs one request's work; its gathered writes are written when `work` ends, whether it succeeded or failed. */
  around<T>(work: () => Promise<T>): Promise<T>;
  /** The audit sink of the security events. */
  audit: { record(event: NewAuditEvent): Promise<void> };
  recordLogin(id: string): Promise<void>;
  /** Clears the account's second-factor failures and lock (after a successful second factor). */
  resetLockout(id: string): Promise<void>;
}

/** One statement: the audit rows, with the last-login updates and lockout resets as data-modifying CTEs before them. */
export function requestWritesStatement(db: Db, events: readonly NewAuditEvent[], logins: ReadonlyMap<string, Date>, lockoutResets: ReadonlySet<string>): SQL {
  const updates = [
    ...[...logins].map(([id, at], i) => sql`${sql.identifier(`login_${i}`)} as (${lastLoginUpdate(db, id, at).getSQL()})`),
    ...[...lockoutResets].map((id, i) => sql`${sql.identifier(`lockout_${i}`)} as (${lockoutReset(db, id).getSQL()})`),
  ];
  const main = events.length > 0 ? db.insert(auditEvents).values(events.map(auditRow)).getSQL() : sql`select 1`;
  return updates.length > 0 ? sql`with ${sql.join(updates, sql`, `)} ${main}` : main;
}

export function createRequestWrites(
  db: Db,
  direct: { record(event: NewAuditEvent): Promise<unknown>; recordLogin(id: string): Promise<void>; resetLockout(id: string): Promise<void> },
): RequestWrites {
  const requests = new AsyncLocalStorage<Pending>();
  const pending = () => {
    const p = requests.getStore();
    return p?.open ? p : undefined;
  };

  /** Writes what the request gathered so far, taking it out of the request's buffer first. */
  async function flush(p: Pending): Promise<void> {
    const events = p.events.splice(0);
    const logins = new Map(p.logins);
    p.logins.clear();
    const resets = new Set(p.lockoutResets);
    p.lockoutResets.clear();
    if (events.length > 0 || logins.size > 0 || resets.size > 0) await db.execute(requestWritesStatement(db, events, logins, resets));
  }

  async function write(p: Pending): Promise<void> {
    p.open = false;
    await flush(p);
  }

  return {
    async around(work) {
      const p: Pending = { open: true, events: [], logins: new Map(), lockoutResets: new Set() };
      try {
        return await requests.run(p, work);
      } finally {
        await write(p);
      }
    },
    audit: {
      async record(event) {
        const p = pending();
        if (!p) {
          await direct.record(event);
          return;
        }
        p.events.push(event);
        // a bulk import records an event per user: written in statements of a bounded size as it goes
        if (p.events.length >= MAX_EVENTS_PER_STATEMENT) await flush(p);
      },
    },
    async recordLogin(id) {
      const p = pending();
      if (!p) return direct.recordLogin(id);
      if (isUuid(id)) p.logins.set(id, new Date());
    },
    async resetLockout(id) {
      const p = pending();
      if (!p) return direct.resetLockout(id);
      if (isUuid(id)) p.lockoutResets.add(id);
    },
  };
}
