// Turns security events into the owner's notification mail, queued for delivery (src/mail/queue.ts).
// A mail that cannot even be queued is logged, never allowed to fail the sign-in or the change that
// caused it (the audit event is already recorded).
import type { Notifier, NotifyingEvent } from '../domain/events.ts';
import type { Logger } from '../http/logger.ts';
import type { MailQueue } from './queue.ts';
import {
  authenticatorAddedMessage,
  authenticatorRemovedMessage,
  emailChangedMessage,
  emailChangeRequestedMessage,
  mfaDisabledMessage,
  mfaEnabledMessage,
  mfaLockedMessage,
  mfaResetMessage,
  recoveryCodesRegeneratedMessage,
  recoveryCodeUsedMessage,
  passwordChangedMessage,
  type MailContent,
  type NoticeContext,
} from './messages.ts';

const asDate = (v: unknown, fallback: Date) => (typeof v === 'string' || v instanceof Date ? new Date(v) : fallback);

const builders = {
  'mfa.enrolled': (c, d) => mfaEnabledMessage({ ...c, passkey: d.kind === 'webauthn' }),
  'mfa.imported': (c) => mfaEnabledMessage(c),
  'mfa.recovery_code.used': (c, d) => recoveryCodeUsedMessage({ ...c, remaining: typeof d.remaining === 'number' ? d.remaining : 0 }),
  'mfa.recovery_codes.regenerated': (c) => recoveryCodesRegeneratedMessage(c),
  'mfa.disabled': (c) => mfaDisabledMessage(c),
  'mfa.reset_by_self': (c) => mfaResetMessage({ ...c, by: 'self', setupRequired: requiresSetup(c) }),
  'mfa.reset_by_admin': (c) => mfaResetMessage({ ...c, by: 'admin', setupRequired: requiresSetup(c) }),
  'mfa.locked': (c, d) => mfaLockedMessage({ ...c, lockedUntil: asDate(d.lockedUntil, c.at) }),
  'mfa.authenticator.added': (c, d) => authenticatorAddedMessage({ ...c, label: labelOf(d), passkey: d.kind === 'webauthn' }),
  'mfa.authenticator.removed': (c, d) => authenticatorRemovedMessage({ ...c, label: labelOf(d), remaining: typeof d.remaining === 'number' ? d.remaining : 0 }),
  'password.changed': (c, d) => passwordChangedMessage({ ...c, ...(d.via === 'reset_link' || d.via === 'settings' ? { via: d.via } : {}) }),
  'email.change_requested': (c, d) => emailChangeRequestedMessage({ ...c, to: addressOf(d.to) }),
  'email.changed': (c, d) => emailChangedMessage({ ...c, to: addressOf(d.to) }),
} satisfies Record<NotifyingEvent, (c: NoticeContext, detail: Record<string, unknown>) => MailContent>;

const addressOf = (v: unknown) => (typeof v === 'string' ? v : 'a new address');
const labelOf = (d: Record<string, unknown>) => (typeof d.label === 'string' && d.label ? d.label : 'Authenticator app');

function requiresSetup(c: NoticeContext & { setupRequired?: boolean }): boolean {
  return c.setupRequired === true;
}

export function createMailNotifier(queue: MailQueue, logger: Logger, settingsUrl?: string): Notifier {
  return {
    async notify(event, to, detail) {
      const context: NoticeContext & { setupRequired?: boolean } = {
        email: to.email,
        ...(to.name ? { name: to.name } : {}),
        ...(typeof detail.tenantName === 'string' ? { tenantName: detail.tenantName } : {}),
        ...(settingsUrl ? { settingsUrl } : {}),
        at: asDate(detail.at, new Date()),
        setupRequired: detail.setupRequired === true,
      };
      const message = builders[event](context, detail);
      try {
        await queue.enqueue({ to: to.email, subject: message.subject, text: message.text, html: message.html });
      } catch (error) {
        logger.error({ err: error, event }, 'security notification could not be queued');
      }
    },
  };
}
