// SMTP delivery through nodemailer (SMTP_URL, e.g. smtps://user:pass@mail.example.com).
import nodemailer from 'nodemailer';
import type { Logger } from '../http/logger.ts';
import { mailFailed, mailRejected, toSendMailOptions } from './compose.ts';
import type { Mailer } from './mailer.ts';

export interface SmtpMailerOptions {
  url: string;
  from: string;
  logger: Logger;
}

/**
 * Bounded waits: the sender holds a claim on the message while it talks to the server, and these
 * limits keep one attempt well inside that claim (nodemailer's own defaults run to minutes).
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

interface SmtpError {
  code?: unknown;
  responseCode?: unknown;
}

/**
 * A 5xx answer to the envelope or the message refuses this message for good. A 5xx elsewhere (535
 * authentication failed) is the server's configuration, which an operator can fix: retried.
 */
function isPermanent(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SmtpError;
  const status = typeof e.responseCode === 'number' ? e.responseCode : 0;
  return status >= 500 && status < 600 && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE');
}

export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transport = nodemailer.createTransport({ url: options.url, ...SMTP_TIMEOUTS });
  return {
    async send(message) {
      const mail = toSendMailOptions(options.from, message);
      try {
        const info = await transport.sendMail(mail);
        options.logger.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
      } catch (err) {
        // The error names the SMTP server's answer, never the message body.
        const detail = err instanceof Error ? err.message : String(err);
        options.logger.warn({ err, to: message.to, subject: message.subject }, 'mail could not be sent');
        throw isPermanent(err) ? mailRejected(detail) : mailFailed(detail);
      }
    },
  };
}
