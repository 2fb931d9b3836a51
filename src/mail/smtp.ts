// SMTP delivery through nodemailer (SMTP_URL, e.g. smtps://user:pass@mail.example.com).
import nodemailer from 'nodemailer';
import type { Logger } from '../http/logger.ts';
import { mailFailed, toSendMailOptions } from './compose.ts';
import type { Mailer } from './mailer.ts';

export interface SmtpMailerOptions {
  url: string;
  from: string;
  logger: Logger;
}

export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transport = nodemailer.createTransport(options.url);
  return {
    async send(message) {
      const mail = toSendMailOptions(options.from, message);
      try {
        const info = await transport.sendMail(mail);
        options.logger.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
      } catch (err) {
        // The error names the SMTP server's answer, never the message body.
        options.logger.error({ err, to: message.to, subject: message.subject }, 'mail could not be sent');
        throw mailFailed(err instanceof Error ? err.message : String(err));
      }
    },
  };
}
