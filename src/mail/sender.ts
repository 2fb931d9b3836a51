// The sender loop: each server instance polls mail_queue, claims one due message at a time (atomic
// claim, so instances never share a message), hands it to the transport (SMTP or the outbox folder)
// and records the outcome; a failure is retried with exponential backoff (src/mail/retry.ts).
// Delivery is at least once: only a sender that dies between the server's "250 OK" and recording it
// lets the message go out again after its claim runs out.
import type { Logger } from '../http/logger.ts';
import type { SecretBox } from '../domain/secrets.ts';
import { isGatehouseError } from '../domain/errors.ts';
import type { MailQueueRepo, QueuedMail } from '../store/repositories/mail-queue.ts';
import { PERMANENT_MAIL_ERRORS } from './compose.ts';
import type { Mailer } from './mailer.ts';
import { bodyContext } from './queue.ts';
import { afterFailure, DEFAULT_RETRY, type FailureKind, type RetryPolicy } from './retry.ts';

export interface MailSenderOptions {
  /** how often the queue is checked for due messages (a message enqueued by this process wakes it at once). */
  pollSeconds: number;
  /** how long a claim lasts; longer than one attempt can take (see SMTP_TIMEOUTS). */
  leaseSeconds: number;
  retry: RetryPolicy;
  /** delivered rows are deleted after this long (their bodies are already gone). */
  keepSentSeconds: number;
}

export const DEFAULT_SENDER: MailSenderOptions = { pollSeconds: 5, leaseSeconds: 120, retry: DEFAULT_RETRY, keepSentSeconds: 7 * 86400 };

export interface MailSender {
  /** Starts polling (the server does this; CLI processes only enqueue). */
  start(): void;
  /** Asks for a pass soon (after an enqueue in this process); no-op unless started. */
  wake(): void;
  /** Delivers every due message now; resolves when the queue has nothing due (or the transport is failing). */
  drain(): Promise<void>;
  /** Stops polling and waits for the pass in progress. */
  stop(): Promise<void>;
}

type Outcome = 'sent' | 'retry' | 'failed';

const HOUSEKEEPING_EVERY_MS = 3600_000;

export function createMailSender(deps: {
  repo: MailQueueRepo;
  box: SecretBox;
  transport: Mailer;
  logger: Logger;
  options?: Partial<MailSenderOptions>;
}): MailSender {
  const options: MailSenderOptions = { ...DEFAULT_SENDER, ...deps.options };
  const log = deps.logger.child({ component: 'mail-queue' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let started = false;
  let lastHousekeeping = 0;

  async function deliver(mail: QueuedMail): Promise<Outcome> {
    let kind: FailureKind;
    let error: string;
    try {
      const text = deps.box.openText(mail.text, bodyContext(mail.id, 'text'));
      const html = mail.html === null ? undefined : deps.box.openText(mail.html, bodyContext(mail.id, 'html'));
      await deps.transport.send({ to: mail.recipient, subject: mail.subject, text, ...(html === undefined ? {} : { html }) });
      await deps.repo.markSent(mail);
      log.info({ mailId: mail.id, attempts: mail.attempts }, 'queued mail delivered');
      return 'sent';
    } catch (err) {
      const code = isGatehouseError(err) ? err.code : '';
      // a body sealed under a key that is no longer configured can never be read again
      kind = PERMANENT_MAIL_ERRORS.has(code) || code === 'secret_unreadable' ? 'permanent' : 'temporary';
      error = isGatehouseError(err) ? `${err.code}: ${err.detail ?? err.message}` : err instanceof Error ? err.message : String(err);
    }
    const decision = afterFailure(mail.attempts, kind, options.retry);
    if (decision.next === 'retry') {
      await deps.repo.markRetry(mail, decision.delaySeconds, error);
      log.warn({ mailId: mail.id, attempts: mail.attempts, retryInSeconds: decision.delaySeconds, error }, 'queued mail not delivered; will retry');
      return 'retry';
    }
    await deps.repo.markFailed(mail, error);
    log.error({ mailId: mail.id, attempts: mail.attempts, reason: decision.reason, error }, 'queued mail given up');
    return 'failed';
  }

  async function pass(): Promise<void> {
    for (;;) {
      const mail = await deps.repo.claimNext(options.leaseSeconds);
      if (!mail) break;
      // While the transport fails, the rest of the queue would fail the same way: wait for the next pass.
      if ((await deliver(mail)) === 'retry') break;
    }
    if (Date.now() - lastHousekeeping > HOUSEKEEPING_EVERY_MS) {
      lastHousekeeping = Date.now();
      const removed = await deps.repo.deleteSentBefore(new Date(Date.now() - options.keepSentSeconds * 1000));
      if (removed > 0) log.info({ removed }, 'delivered mail records removed');
    }
  }

  /** One pass at a time per process; a wake during a pass runs one more pass after it. */
  function drain(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await pass();
        } while (again);
      } catch (err) {
        log.error({ err }, 'mail queue pass failed');
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    start() {
      if (started) return;
      started = true;
      timer = setInterval(() => void drain(), options.pollSeconds * 1000);
      timer.unref();
      void drain();
    },
    wake() {
      if (started) setImmediate(() => void drain());
    },
    drain,
    async stop() {
      started = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
