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
import { fixedStatement, type StatementValues } from './fixed-statement.ts';
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

/** How many of each write one request gathered: the statement's text depends on nothing else. */
interface Shape {
  events: number;
  logins: number;
  resets: number;
}

/** The shapes of every sign-in and of most other requests: each is prepared once, under its own name. */
const PREPARED_UP_TO: Shape = { events: 4, logins: 2, resets: 2 };

const indexes = (n: number) => Array.from({ length: n }, (_, i) => i);
const value = sql.placeholder;

const eventRow = (i: number) => ({
  action: value(`e${i}_action`),
  actorAccountId: value(`e${i}_actorAccountId`),
  actor: value(`e${i}_actor`),
  tenantId: value(`e${i}_tenantId`),
  target: value(`e${i}_target`),
  ip: value(`e${i}_ip`),
  userAgent: value(`e${i}_userAgent`),
  requestId: value(`e${i}_requestId`),
  detail: value(`e${i}_detail`),
});

/** One statement: the audit rows, with the last-login updates and lockout resets as data-modifying CTEs before them. */
export function requestWritesStatement(db: Db, shape: Shape): SQL {
  const updates = [
    ...indexes(shape.logins).map((i) => sql`${sql.identifier(`login_${i}`)} as (${lastLoginUpdate(db, value(`login_${i}`), value(`login_${i}_at`)).getSQL()})`),
    ...indexes(shape.resets).map((i) => sql`${sql.identifier(`lockout_${i}`)} as (${lockoutReset(db, value(`lockout_${i}`), value('at')).getSQL()})`),
  ];
  const main = shape.events > 0 ? db.insert(auditEvents).values(indexes(shape.events).map(eventRow)).getSQL() : sql`select 1`;
  return updates.length > 0 ? sql`with ${sql.join(updates, sql`, `)} ${main}` : main;
}

/** The values of `requestWritesStatement`'s placeholders. */
function statementValues(events: readonly NewAuditEvent[], logins: ReadonlyMap<string, Date>, resets: ReadonlySet<string>): StatementValues {
  const values: StatementValues = resets.size > 0 ? { at: new Date().toISOString() } : {};
  events.forEach((event, i) => {
    for (const [field, v] of Object.entries(auditRow(event))) values[`e${i}_${field}`] = v;
  });
  [...logins].forEach(([id, at], i) => {
    values[`login_${i}`] = id;
    values[`login_${i}_at`] = at.toISOString();
  });
  [...resets].forEach((id, i) => {
    values[`lockout_${i}`] = id;
  });
  return values;
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

  const prepared = new Map<string, (values: StatementValues) => Promise<unknown>>();
  const statementOf = (shape: Shape) => {
    if (shape.events > PREPARED_UP_TO.events || shape.logins > PREPARED_UP_TO.logins || shape.resets > PREPARED_UP_TO.resets) {
      return fixedStatement(db, undefined, () => requestWritesStatement(db, shape));
    }
    const name = `gatehouse_request_writes_${shape.events}_${shape.logins}_${shape.resets}`;
    let statement = prepared.get(name);
    if (!statement) prepared.set(name, (statement = fixedStatement(db, name, () => requestWritesStatement(db, shape))));
    return statement;
  };

  /** Writes what the request gathered so far, taking it out of the request's buffer first. */
  async function flush(p: Pending): Promise<void> {
    const events = p.events.splice(0);
    const logins = new Map(p.logins);
    p.logins.clear();
    const resets = new Set(p.lockoutResets);
    p.lockoutResets.clear();
    if (events.length === 0 && logins.size === 0 && resets.size === 0) return;
    await statementOf({ events: events.length, logins: logins.size, resets: resets.size })(statementValues(events, logins, resets));
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
