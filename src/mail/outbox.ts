// The embedded-default mailer: each message becomes an RFC 5322 .eml file in DATA_DIR/outbox/, and
// one log line names the recipient, subject and file — never the body, which may hold links.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../http/logger.ts';
import { mailFailed, toSendMailOptions } from './compose.ts';
import type { Mailer } from './mailer.ts';

export interface OutboxMailerOptions {
  dir: string;
  from: string;
  logger: Logger;
  now?: () => Date;
}

/** `20250301T140502123Z-1f3a9c0b.eml`: sortable by time, unique across instances. */
export const outboxFileName = (at: Date): string =>
  `${at.toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(4).toString('hex')}.eml`;

export function createOutboxMailer(options: OutboxMailerOptions): Mailer {
  const now = options.now ?? (() => new Date());
  // The stream transport runs nodemailer's real MIME composer (Date, Message-ID, encodings) and
  // hands back the raw message instead of sending it.
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    async send(message) {
      const mail = toSendMailOptions(options.from, message);
      const at = now();
      const file = path.join(options.dir, outboxFileName(at));
      try {
        const info = await transport.sendMail({ ...mail, date: at });
        const raw = info.message;
        if (!Buffer.isBuffer(raw)) throw new Error('stream transport returned no buffer');
        await mkdir(options.dir, { recursive: true, mode: 0o700 });
        await writeFile(file, raw, { flag: 'wx', mode: 0o600 });
      } catch (err) {
        options.logger.error({ err, to: message.to, subject: message.subject }, 'mail could not be written to the outbox');
        throw mailFailed(err instanceof Error ? err.message : String(err));
      }
      options.logger.info({ to: message.to, subject: message.subject, file }, 'mail written to outbox');
    },
  };
}
