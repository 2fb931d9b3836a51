// One way to turn a MailMessage into nodemailer options, shared by the SMTP and outbox mailers, and
// the errors a transport reports.
import type { SendMailOptions } from 'nodemailer';
import { GatehouseError } from '../domain/errors.ts';
import type { MailMessage } from './mailer.ts';

const LINE_BREAK = /[\r\n]/;

/** Refuses header injection early (nodemailer would encode it, but such input is always a bug). */
export function assertHeaderSafe(message: Pick<MailMessage, 'to' | 'subject'>): void {
  if (LINE_BREAK.test(message.to) || LINE_BREAK.test(message.subject)) {
    throw new GatehouseError('mail_invalid', 500, 'The email could not be prepared.', 'line break in To or Subject');
  }
}

export function toSendMailOptions(from: string, message: MailMessage): SendMailOptions {
  assertHeaderSafe(message);
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html === undefined ? {} : { html: message.html }),
    // Message content never pulls local files or URLs into the mail.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** The transport could not deliver now (server down, timeout, 4xx): worth trying again later. */
export const mailFailed = (detail: string): GatehouseError =>
  new GatehouseError('mail_failed', 503, 'We could not send the email right now. Please try again in a few minutes.', detail);

/** The mail server refused this message for good (5xx for its recipient or content): retrying cannot help. */
export const mailRejected = (detail: string): GatehouseError =>
  new GatehouseError('mail_rejected', 502, 'The mail server refused the email.', detail);

/** Error codes a transport throws that no later attempt can change. */
export const PERMANENT_MAIL_ERRORS: ReadonlySet<string> = new Set(['mail_rejected', 'mail_invalid']);
