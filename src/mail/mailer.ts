// Outgoing mail transports (DESIGN.md §10): SMTP when SMTP_URL is set, else .eml files in DATA_DIR/outbox.
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../http/logger.ts';
import { createOutboxMailer } from './outbox.ts';
import { createSmtpMailer } from './smtp.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/**
 * A transport. Only the sender loop (src/mail/sender.ts) calls it; everything else queues mail
 * (src/mail/queue.ts, the Postbox, security events), so no user action waits for a mail server.
 */
export interface Mailer {
  /**
   * Sends one message; rejects with GatehouseError `mail_failed` (worth retrying) or `mail_rejected`
   * / `mail_invalid` (never deliverable).
   */
  send(message: MailMessage): Promise<void>;
}

export const OUTBOX_DIR = 'outbox';

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'dataDir'>, logger: Logger): Mailer {
  const log = logger.child({ component: 'mail' });
  if (config.smtpUrl) return createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom, logger: log });
  return createOutboxMailer({ dir: path.join(config.dataDir, OUTBOX_DIR), from: config.mailFrom, logger: log });
}
