// The durable mail queue: writers insert, senders on any number of instances claim one due row at a
// time. A claim is one statement (`UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`),
// so two senders never hold the same row; every time comparison uses the database clock, the one
// clock all instances share.
import { and, eq, isNotNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { queryRows } from '../db.ts';
import { mailQueue } from '../schema.ts';
import { isUuid } from './pg-errors.ts';

export interface QueuedMail {
  id: string;
  recipient: string;
  subject: string;
  /** sealed bodies, as stored. */
  text: string;
  html: string | null;
  /** attempts so far, the claimed one included. */
  attempts: number;
  createdAt: Date;
}

export type Claim = Pick<QueuedMail, 'id' | 'attempts'>;

export interface NewQueuedMail {
  id: string;
  recipient: string;
  subject: string;
  text: string;
  html: string | null;
}

export interface MailQueueCounts {
  waiting: number;
  sent: number;
  failed: number;
}

export interface MailQueueRepo {
  insert(mail: NewQueuedMail): Promise<void>;
  /**
   * Claims the oldest due row for `leaseSeconds` and counts the attempt; undefined when nothing is
   * due. A row whose lease ran out (its sender crashed) is due again.
   */
  claimNext(leaseSeconds: number): Promise<QueuedMail | undefined>;
  // The outcomes below name the claim (id + attempt number): a sender whose lease ran out and whose row
  // another sender claimed since cannot overwrite that sender's outcome.
  /** Delivered: the sealed bodies are dropped, the row stays as a record until `deleteSentBefore`. */
  markSent(claim: Claim): Promise<void>;
  /** Not delivered this time: due again after `delaySeconds`. */
  markRetry(claim: Claim, delaySeconds: number, error: string): Promise<void>;
  /** Not deliverable (refused for good, or out of attempts): kept for the operator, never retried. */
  markFailed(claim: Claim, error: string): Promise<void>;
  deleteSentBefore(before: Date): Promise<number>;
  counts(): Promise<MailQueueCounts>;
}

interface ClaimedRow {
  id: string;
  recipient: string;
  subject: string;
  text: string;
  html: string | null;
  attempts: number;
  created_at: Date | string;
}

/** Error texts are the SMTP server's answer; bounded so one long reply cannot bloat the row. */
const bounded = (error: string) => error.slice(0, 1000);

const thisClaim = (claim: Claim) => and(eq(mailQueue.id, claim.id), eq(mailQueue.attempts, claim.attempts));

export function createMailQueueRepo(db: Db): MailQueueRepo {
  return {
    async insert(mail) {
      await db.insert(mailQueue).values({ id: mail.id, recipient: mail.recipient, subject: mail.subject, text: mail.text, html: mail.html });
    },

    async claimNext(leaseSeconds) {
      const [row] = await queryRows<ClaimedRow>(
        db,
        sql`
        update ${mailQueue} set
          locked_until = now() + make_interval(secs => ${leaseSeconds}::float8),
          attempts = attempts + 1
        where id = (
          select id from ${mailQueue}
          where sent_at is null and failed_at is null
            and next_attempt_at <= now()
            and (locked_until is null or locked_until <= now())
          order by next_attempt_at, created_at
          limit 1
          for update skip locked)
        returning id, recipient, subject, text, html, attempts, created_at`,
      );
      if (!row) return undefined;
      return { id: row.id, recipient: row.recipient, subject: row.subject, text: row.text, html: row.html, attempts: row.attempts, createdAt: new Date(row.created_at) };
    },

    async markSent(claim) {
      if (!isUuid(claim.id)) return;
      await db
        .update(mailQueue)
        .set({ sentAt: sql`now()`, lockedUntil: null, lastError: null, text: '', html: null })
        .where(thisClaim(claim));
    },

    async markRetry(claim, delaySeconds, error) {
      if (!isUuid(claim.id)) return;
      await db
        .update(mailQueue)
        .set({ nextAttemptAt: sql`now() + make_interval(secs => ${Math.max(0, delaySeconds)}::float8)`, lockedUntil: null, lastError: bounded(error) })
        .where(thisClaim(claim));
    },

    async markFailed(claim, error) {
      if (!isUuid(claim.id)) return;
      await db
        .update(mailQueue)
        .set({ failedAt: sql`now()`, lockedUntil: null, lastError: bounded(error), text: '', html: null })
        .where(thisClaim(claim));
    },

    async deleteSentBefore(before) {
      const rows = await db
        .delete(mailQueue)
        .where(and(isNotNull(mailQueue.sentAt), lt(mailQueue.sentAt, before)))
        .returning({ id: mailQueue.id });
      return rows.length;
    },

    async counts() {
      const [row] = await queryRows<{ waiting: number; sent: number; failed: number }>(
        db,
        sql`select
          count(*) filter (where sent_at is null and failed_at is null)::int as waiting,
          count(*) filter (where sent_at is not null)::int as sent,
          count(*) filter (where failed_at is not null)::int as failed
        from ${mailQueue}`,
      );
      return { waiting: row?.waiting ?? 0, sent: row?.sent ?? 0, failed: row?.failed ?? 0 };
    },
  };
}
