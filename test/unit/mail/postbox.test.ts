// The Postbox and the event notifier only queue mail: they never talk to a mail server, so a use case
// cannot wait for one or fail because of one; an event mail that cannot even be queued is logged only.
import { describe, expect, it } from '@jest/globals';
import { createPostbox } from '../../../src/mail/postbox.ts';
import { createMailNotifier } from '../../../src/mail/notifier.ts';
import type { MailQueue } from '../../../src/mail/queue.ts';
import type { MailMessage } from '../../../src/mail/mailer.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { captureLines } from '../http/_serve.ts';

const recordingQueue = () => {
  const queued: MailMessage[] = [];
  const queue: MailQueue = {
    async enqueue(message) {
      queued.push(message);
      return String(queued.length);
    },
  };
  return { queue, queued };
};

describe('postbox', () => {
  it('queues each notice kind worded by its builder', async () => {
    const { queue, queued } = recordingQueue();
    const postbox = createPostbox(queue, () => new Date('2025-03-03T14:05:00Z'));
    const to = { email: 'ada@example.com', name: 'Ada' };
    const link = { link: `https://id.example.com/x/${'a'.repeat(43)}`, expiresAt: new Date('2025-03-03T14:35:00Z') };
    await postbox.send('password.reset_link', to, { ...link, tenantNames: ['Fabrikam'] });
    await postbox.send('email.verification_link', to, { ...link, tenantName: 'Fabrikam' });
    await postbox.send('account.invitation', to, { ...link, tenantName: 'Fabrikam' });
    await postbox.send('mfa.reset_link', to, link);
    await postbox.send('signin.new_browser', to, { browser: 'Firefox' });
    expect(queued.map((m) => m.subject)).toEqual([
      'Reset your Gatehouse password',
      'Confirm your email address for Gatehouse',
      "You're invited to Fabrikam on Gatehouse",
      'Confirm the reset of multi-factor authentication for your Gatehouse account',
      'New sign-in to your Gatehouse account',
    ]);
    expect(queued.every((m) => m.to === 'ada@example.com' && m.text.startsWith('Hello Ada,') && m.html?.startsWith('<!doctype html>'))).toBe(true);
  });
});

describe('event notifier', () => {
  it('queues the mail of a notifying event', async () => {
    const { queue, queued } = recordingQueue();
    await createMailNotifier(queue, createLogger({ logLevel: 'silent' })).notify('password.changed', { email: 'ada@example.com', name: null }, { via: 'reset_link', tenantName: 'Fabrikam' });
    expect(queued).toHaveLength(1);
    expect(queued[0]?.subject).toBe('Your Gatehouse password was changed');
    expect(queued[0]?.text).toContain('using a password reset link');
  });

  it('logs, and does not throw, when the mail cannot be queued', async () => {
    const lines = captureLines();
    const failing: MailQueue = {
      enqueue: () => Promise.reject(new Error('database unavailable')),
    };
    const notifier = createMailNotifier(failing, createLogger({ logLevel: 'info' }, lines));
    await expect(notifier.notify('mfa.disabled', { email: 'ada@example.com', name: null }, {})).resolves.toBeUndefined();
    expect(lines.lines.map((l) => l.msg)).toContain('security notification could not be queued');
  });
});
