// Outgoing mail (DESIGN.md §10): SMTP when SMTP_URL is set, else .eml files in DATA_DIR/outbox.
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

export interface Mailer {
  /** Sends one message; rejects with GatehouseError `mail_failed` (503) when it cannot. */
  send(message: MailMessage): Promise<void>;
}

export const OUTBOX_DIR = 'outbox';

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'dataDir'>, logger: Logger): Mailer {
  const log = logger.child({ component: 'mail' });
  if (config.smtpUrl) return createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom, logger: log });
  return createOutboxMailer({ dir: path.join(config.dataDir, OUTBOX_DIR), from: config.mailFrom, logger: log });
}
