// One way to turn a MailMessage into nodemailer options, shared by the SMTP and outbox mailers.
import type { SendMailOptions } from 'nodemailer';
import { GatehouseError } from '../domain/errors.ts';
import type { MailMessage } from './mailer.ts';

const LINE_BREAK = /[\r\n]/;

/** Refuses header injection early (nodemailer would encode it, but such input is always a bug). */
export function toSendMailOptions(from: string, message: MailMessage): SendMailOptions {
  if (LINE_BREAK.test(message.to) || LINE_BREAK.test(message.subject)) {
    throw new GatehouseError('mail_invalid', 500, 'The email could not be prepared.', 'line break in To or Subject');
  }
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

export const mailFailed = (detail: string): GatehouseError =>
  new GatehouseError('mail_failed', 503, 'We could not send the email right now. Please try again in a few minutes.', detail);
