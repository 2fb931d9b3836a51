// The domain's Postbox (src/domain/notices.ts) over the mail queue: one builder per notice kind, a
// table the compiler checks against the kinds.
import type { NoticeData, NoticeKind, Postbox, Recipient } from '../domain/notices.ts';
import {
  emailChangeLinkMessage,
  emailVerificationMessage,
  importSummaryMessage,
  invitationMessage,
  mfaResetLinkMessage,
  newSignInMessage,
  passwordResetLinkMessage,
  type MailContent,
} from './messages.ts';
import type { MailQueue } from './queue.ts';

type Builders = { [K in NoticeKind]: (to: Recipient, data: NoticeData[K], at: Date) => MailContent };

const who = (to: Recipient) => ({ email: to.email, ...(to.name ? { name: to.name } : {}) });
const optional = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });

const builders = {
  'password.reset_link': (to, d, at) => passwordResetLinkMessage({ ...who(to), link: d.link, expiresAt: d.expiresAt, at, tenantNames: d.tenantNames }),
  'email.verification_link': (to, d, at) => emailVerificationMessage({ ...who(to), link: d.link, expiresAt: d.expiresAt, at, ...optional('tenantName', d.tenantName) }),
  'email.change_link': (to, d, at) => emailChangeLinkMessage({ ...who(to), link: d.link, expiresAt: d.expiresAt, at, tenantName: d.tenantName, from: d.from }),
  'account.invitation': (to, d, at) =>
    invitationMessage({ ...who(to), link: d.link, expiresAt: d.expiresAt, at, tenantName: d.tenantName, ...optional('inviterName', d.inviterName) }),
  'mfa.reset_link': (to, d, at) => mfaResetLinkMessage({ ...who(to), link: d.link, expiresAt: d.expiresAt, at, ...optional('tenantName', d.tenantName) }),
  'signin.new_browser': (to, d, at) =>
    newSignInMessage({
      ...who(to),
      at,
      ...optional('tenantName', d.tenantName),
      ...optional('browser', d.browser),
      ...optional('ip', d.ip),
      ...optional('clientName', d.clientName),
    }),
  'import.summary': (to, d, at) => importSummaryMessage({ ...who(to), at, ...d }),
} satisfies Builders;

export function createPostbox(queue: MailQueue, now: () => Date = () => new Date()): Postbox {
  return {
    async send(kind, to, data) {
      const build = builders[kind] as Builders[typeof kind];
      const message = build(to, data, now());
      await queue.enqueue({ to: to.email, subject: message.subject, text: message.text, html: message.html });
    },
  };
}
