// Every caller sends mail by enqueueing it: one row in mail_queue, written in the caller's request,
// delivered by the sender loop (src/mail/sender.ts) whenever the mail server answers. So a mail
// server that is down or slow never fails or delays the user's action.
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '../domain/secrets.ts';
import type { MailQueueRepo } from '../store/repositories/mail-queue.ts';
import { assertHeaderSafe } from './compose.ts';
import type { MailMessage } from './mailer.ts';

export interface MailQueue {
  /** Stores the message for delivery; rejects only when the database cannot take it. Returns its id. */
  enqueue(message: MailMessage): Promise<string>;
}

/** The bodies are sealed under the row's id, so a body cannot be moved to another row and read there. */
export const bodyContext = (id: string, part: 'text' | 'html') => `mail:${id}:${part}`;

export function createMailQueue(deps: { repo: Pick<MailQueueRepo, 'insert'>; box: SecretBox; onEnqueued?: () => void }): MailQueue {
  return {
    async enqueue(message) {
      // A message that can never be sent is refused here, where the bug is, not in the sender later.
      assertHeaderSafe(message);
      const id = randomUUID();
      await deps.repo.insert({
        id,
        recipient: message.to,
        subject: message.subject,
        text: deps.box.seal(message.text, bodyContext(id, 'text')),
        html: message.html === undefined ? null : deps.box.seal(message.html, bodyContext(id, 'html')),
      });
      deps.onEnqueued?.();
      return id;
    },
  };
}
