// Notification and link emails (DESIGN.md §9: every MFA change mails the account owner).
// Each builder returns plain text plus simple HTML from one list of blocks, so both always agree.
import { GatehouseError } from '../domain/errors.ts';

export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

/** What every security notice needs to say who, which account and when. */
export interface NoticeContext {
  /** Used in the greeting; without it the mail says "Hello,". */
  name?: string;
  /** The account's email address (one email may own accounts in several organizations). */
  email: string;
  /** Organization or partner of the account, shown when known. */
  tenantName?: string;
  /** When it happened. */
  at: Date;
  /** IANA time zone for times in the mail (default UTC). */
  timeZone?: string;
  /** Where the user manages their security settings (a link is added when given). */
  settingsUrl?: string;
}

type Block =
  | { kind: 'p'; text: string }
  | { kind: 'facts'; rows: [string, string][] }
  | { kind: 'link'; label: string; url: string }
  | { kind: 'warning'; text: string };

const PRODUCT = 'Gatehouse';
const NOT_YOU = "If this wasn't you, contact your administrator right away.";
const FOOTER = `This is an automatic security message from ${PRODUCT}. Replies to this address are not read.`;

/** "3 March 2025 at 14:05 (UTC)": unambiguous day-month order, 24-hour clock, zone named. */
export function formatTime(at: Date, timeZone = 'UTC'): string {
  const formatted = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone }).format(at);
  return `${formatted} (${timeZone})`;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function assertWebLink(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GatehouseError('mail_invalid', 500, 'The email could not be prepared.', 'link is not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new GatehouseError('mail_invalid', 500, 'The email could not be prepared.', `link scheme ${parsed.protocol}`);
  }
  return parsed.toString();
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Account, organization (when known) and the given time rows. */
function facts(email: string, tenantName: string | undefined, times: [string, string][]): Block {
  const tenant: [string, string][] = tenantName ? [['Organization', tenantName]] : [];
  return { kind: 'facts', rows: [['Account', email], ...tenant, ...times] };
}

const accountFacts = (c: NoticeContext): Block => facts(c.email, c.tenantName, [['When', formatTime(c.at, c.timeZone)]]);

const settingsLink = (c: NoticeContext): Block[] =>
  c.settingsUrl ? [{ kind: 'link', label: 'Open your security settings', url: c.settingsUrl }] : [];

function renderText(greeting: string, blocks: Block[]): string {
  const parts = [greeting];
  for (const b of blocks) {
    if (b.kind === 'p' || b.kind === 'warning') parts.push(b.text);
    else if (b.kind === 'facts') parts.push(b.rows.map(([k, v]) => `${k}: ${v}`).join('\n'));
    else parts.push(`${b.label}:\n${assertWebLink(b.url)}`);
  }
  parts.push('-- ', FOOTER);
  return `${parts.join('\n\n')}\n`;
}

function renderHtml(subject: string, greeting: string, blocks: Block[]): string {
  const body = blocks.map((b) => {
    if (b.kind === 'p') return `<p>${escapeHtml(b.text)}</p>`;
    if (b.kind === 'warning') return `<p><strong>${escapeHtml(b.text)}</strong></p>`;
    if (b.kind === 'facts') {
      const rows = b.rows.map(([k, v]) => `<tr><th align="left" valign="top">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
      return `<table role="presentation" cellpadding="4" cellspacing="0">${rows}</table>`;
    }
    const url = escapeHtml(assertWebLink(b.url));
    return `<p><a href="${url}">${escapeHtml(b.label)}</a></p><p>If the link does not open, copy this address into your browser:<br>${url}</p>`;
  });
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body>',
    `<p>${escapeHtml(greeting)}</p>`,
    ...body,
    '<hr>',
    `<p><small>${escapeHtml(FOOTER)}</small></p>`,
    '</body></html>',
    '',
  ].join('\n');
}

function build(subject: string, name: string | undefined, blocks: Block[]): MailContent {
  const greeting = name ? `Hello ${name},` : 'Hello,';
  return { subject, text: renderText(greeting, blocks), html: renderHtml(subject, greeting, blocks) };
}

/** The first authenticator (an app, or a passkey or security key) was added: MFA is on. */
export function mfaEnabledMessage(c: NoticeContext & { passkey?: boolean }): MailContent {
  const what = c.passkey
    ? `A passkey or security key was added to your ${PRODUCT} account. From now on, signing in asks for your password and that passkey, or the passkey alone.`
    : `An authenticator app was added to your ${PRODUCT} account. From now on, signing in asks for your password and a one-time code from that app.`;
  return build(`Multi-factor authentication is now on for your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: what },
    accountFacts(c),
    { kind: 'p', text: 'Keep your recovery codes somewhere safe. You need them if your phone is lost or replaced, or your authenticator app is unavailable. Each code can be used once.' },
    ...settingsLink(c),
    { kind: 'warning', text: NOT_YOU },
  ]);
}

/** A recovery code was used in place of the authenticator code. */
export function recoveryCodeUsedMessage(c: NoticeContext & { remaining: number }): MailContent {
  const remaining = Math.max(0, Math.floor(c.remaining));
  const left =
    remaining === 0
      ? 'You have no recovery codes left. Sign in and create new ones now, so you can still get in if you lose your device.'
      : remaining <= 3
        ? `You have ${plural(remaining, 'recovery code', 'recovery codes')} left. Consider creating a new set in your security settings.`
        : `You have ${plural(remaining, 'recovery code', 'recovery codes')} left.`;
  return build(`A recovery code was used to sign in to your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: `Someone signed in to your ${PRODUCT} account with a recovery code instead of a code from the authenticator app. That recovery code can't be used again.` },
    accountFacts(c),
    { kind: 'p', text: left },
    { kind: 'p', text: 'If you no longer have your authenticator app, you can set up a new device from your security settings.' },
    ...settingsLink(c),
    { kind: 'warning', text: NOT_YOU },
  ]);
}

/** A new set of recovery codes replaced the old one. */
export function recoveryCodesRegeneratedMessage(c: NoticeContext): MailContent {
  return build(`Your ${PRODUCT} recovery codes were replaced`, c.name, [
    { kind: 'p', text: `A new set of recovery codes was created for your ${PRODUCT} account. Your previous recovery codes no longer work.` },
    accountFacts(c),
    { kind: 'p', text: 'Store the new codes securely, for example in a password manager. Each code can be used once.' },
    ...settingsLink(c),
    { kind: 'warning', text: NOT_YOU },
  ]);
}

/** The user turned MFA off. */
export function mfaDisabledMessage(c: NoticeContext): MailContent {
  return build(`Multi-factor authentication was turned off for your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: `Multi-factor authentication (MFA) was turned off for your ${PRODUCT} account. Signing in now needs only your password, and your recovery codes no longer work.` },
    accountFacts(c),
    { kind: 'p', text: 'Turning off MFA significantly reduces the security of your account. Consider turning it on again as soon as possible.' },
    ...settingsLink(c),
    { kind: 'warning', text: NOT_YOU },
  ]);
}

export interface MfaResetNotice extends NoticeContext {
  /** Who reset it: the user (through an emailed link) or an administrator. */
  by: 'self' | 'admin';
  /** The administrator's name, when `by` is 'admin'. */
  adminName?: string;
  /** True when the organization enforces MFA, so setup is required at the next sign-in. */
  setupRequired: boolean;
}

/** MFA was reset: the authenticator and recovery codes were removed. */
export function mfaResetMessage(c: MfaResetNotice): MailContent {
  const who =
    c.by === 'admin'
      ? `${c.adminName ? `An administrator (${c.adminName})` : 'An administrator'} reset multi-factor authentication (MFA) for your ${PRODUCT} account.`
      : `Multi-factor authentication (MFA) for your ${PRODUCT} account was reset using the confirmation link we emailed you.`;
  const next = c.setupRequired
    ? 'Your organization requires MFA, so the next time you sign in you will be asked to set up your authenticator app again: scan the QR code or enter the setup key, then type the code it shows.'
    : 'You can set up your authenticator app again at any time from your security settings.';
  return build(`Multi-factor authentication was reset for your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: `${who} Your authenticator app and recovery codes no longer work for this account.` },
    accountFacts(c),
    { kind: 'p', text: next },
    ...settingsLink(c),
    { kind: 'warning', text: NOT_YOU },
  ]);
}

/** The authenticator moved to a new device (the old one stops working). */
export function newDeviceMessage(c: NoticeContext): MailContent {
  return build(`A new authenticator device was set up for your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: `A new device was set up to give the one-time codes for your ${PRODUCT} account. Codes from the previous device no longer work.` },
    accountFacts(c),
    ...settingsLink(c),
    { kind: 'warning', text: NOT_YOU },
  ]);
}

/** Too many wrong codes: the MFA step is locked until `lockedUntil`. */
export function mfaLockedMessage(c: NoticeContext & { lockedUntil: Date }): MailContent {
  return build(`Sign-in to your ${PRODUCT} account is paused after too many wrong codes`, c.name, [
    { kind: 'p', text: `A wrong one-time code was entered too many times while signing in to your ${PRODUCT} account, so the code step is locked for a while.` },
    facts(c.email, c.tenantName, [
      ['When', formatTime(c.at, c.timeZone)],
      ['Locked until', formatTime(c.lockedUntil, c.timeZone)],
    ]),
    { kind: 'p', text: 'If this was you, wait until then and try again with a fresh code from your authenticator app, or use a recovery code. If you have lost your device, ask your administrator to reset MFA for your account.' },
    { kind: 'warning', text: `If this wasn't you, someone may know your password. Change your password and contact your administrator right away.` },
  ]);
}

export interface LinkMessageContext {
  name?: string;
  email: string;
  /** The single-use link (https in production). */
  link: string;
  expiresAt: Date;
  at: Date;
  timeZone?: string;
}

/** Self-service MFA reset: the link that confirms the reset ("Lost your device?" on the code page). */
export function mfaResetLinkMessage(c: LinkMessageContext & { tenantName?: string }): MailContent {
  return build(`Confirm the reset of multi-factor authentication for your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: `We received a request to reset multi-factor authentication (MFA) for your ${PRODUCT} account. To confirm, open the link below. It works once and expires at ${formatTime(c.expiresAt, c.timeZone)}.` },
    { kind: 'link', label: 'Confirm the MFA reset', url: c.link },
    facts(c.email, c.tenantName, [['Requested', formatTime(c.at, c.timeZone)]]),
    { kind: 'p', text: 'After the reset you sign in with your password, and set up your authenticator app again if your organization requires MFA.' },
    { kind: 'warning', text: "If you didn't ask for this, ignore this email: nothing changes unless the link is opened. Tell your administrator, because someone may know your password." },
  ]);
}

/** The link a platform operator uses to set a password (and MFA) for a new operator account. */
export function operatorSetupLinkMessage(c: LinkMessageContext): MailContent {
  return build(`Set up your ${PRODUCT} operator account`, c.name, [
    { kind: 'p', text: `An operator account was created for you on ${PRODUCT}. Open the link below to choose your password and set up multi-factor authentication. The link works once and expires at ${formatTime(c.expiresAt, c.timeZone)}.` },
    { kind: 'link', label: 'Set up your account', url: c.link },
    facts(c.email, undefined, [['Sent', formatTime(c.at, c.timeZone)]]),
    { kind: 'warning', text: "If you weren't expecting this, don't open the link and contact your administrator." },
  ]);
}

// ---- self-service: links and account notices ----

const plainList = (items: string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;

const MFA_STAYS =
  'Changing your password does not turn off two-factor authentication: when your account has it, signing in still asks for a code from your authenticator app.';

/** Forgotten password: the single-use link to choose a new one (one link for every account of the address). */
export function passwordResetLinkMessage(c: LinkMessageContext & { tenantNames: string[] }): MailContent {
  const several = c.tenantNames.length > 1;
  return build(`Reset your ${PRODUCT} password`, c.name, [
    { kind: 'p', text: `We received a request to reset the password of your ${PRODUCT} account. To choose a new password, open the link below. It works once and expires at ${formatTime(c.expiresAt, c.timeZone)}.` },
    { kind: 'link', label: 'Choose a new password', url: c.link },
    ...(several
      ? [{ kind: 'p' as const, text: `This email address has an account in ${c.tenantNames.length} organizations (${plainList(c.tenantNames)}). Each account has its own password: after opening the link, choose the account whose password you want to reset.` }]
      : []),
    facts(c.email, several ? undefined : c.tenantNames[0], [['Requested', formatTime(c.at, c.timeZone)]]),
    { kind: 'p', text: MFA_STAYS },
    { kind: 'warning', text: "If you didn't ask for this, ignore this email: your password stays the same unless the link is opened." },
  ]);
}

/** The password was changed (through a reset link, or by the user in their settings). */
export function passwordChangedMessage(c: NoticeContext & { via?: 'reset_link' | 'settings' }): MailContent {
  const how = c.via === 'reset_link' ? ' using a password reset link sent to this address' : '';
  return build(`Your ${PRODUCT} password was changed`, c.name, [
    { kind: 'p', text: `The password of your ${PRODUCT} account was changed${how}. You were signed out of every browser and app where you were signed in with it.` },
    accountFacts(c),
    { kind: 'p', text: MFA_STAYS },
    ...settingsLink(c),
    { kind: 'warning', text: "If this wasn't you, reset your password right away from the sign-in page (Forgot password?) and contact your administrator." },
  ]);
}

/** Email verification: the link that confirms the account's address. */
export function emailVerificationMessage(c: LinkMessageContext & { tenantName?: string }): MailContent {
  return build(`Confirm your email address for ${PRODUCT}`, c.name, [
    { kind: 'p', text: `Please confirm that this is the email address of your ${PRODUCT} account. Open the link below; it expires at ${formatTime(c.expiresAt, c.timeZone)}.` },
    { kind: 'link', label: 'Confirm my email address', url: c.link },
    facts(c.email, c.tenantName, [['Sent', formatTime(c.at, c.timeZone)]]),
    { kind: 'p', text: 'Apps you sign in to through Gatehouse can then rely on this address, for example to send you notifications.' },
    { kind: 'warning', text: "If you don't have an account with us, ignore this email: nothing happens unless the link is opened." },
  ]);
}

const CHANGE_PASSWORD_TO_STOP =
  "If this wasn't you, someone may know your password: change it right away (Forgot password? on the sign-in page works too), which cancels a change not confirmed yet, and contact your administrator.";

/** Email change: the link, mailed to the NEW address, that confirms it. */
export function emailChangeLinkMessage(c: LinkMessageContext & { tenantName: string; from: string }): MailContent {
  return build(`Verify your new email address for ${PRODUCT}`, c.name, [
    { kind: 'p', text: `We received a request to change the email address of your ${PRODUCT} account to this address. To confirm, open the link below and confirm the change. It works once and expires at ${formatTime(c.expiresAt, c.timeZone)}.` },
    { kind: 'link', label: 'Verify my new email address', url: c.link },
    { kind: 'facts', rows: [['Current address', c.from], ['New address', c.email], ['Organization', c.tenantName], ['Requested', formatTime(c.at, c.timeZone)]] },
    { kind: 'p', text: 'Until you confirm, your account keeps its current address.' },
    { kind: 'warning', text: "If you didn't ask for this, ignore this email: nothing changes unless the link is opened and confirmed." },
  ]);
}

/** Email change requested: the notice to the CURRENT address (no link; nothing changes yet). */
export function emailChangeRequestedMessage(c: NoticeContext & { to: string }): MailContent {
  return build(`A change of your ${PRODUCT} email address was requested`, c.name, [
    { kind: 'p', text: `Someone signed in to your ${PRODUCT} account asked to change its email address to ${c.to}. We sent a confirmation link to that address; the change happens only when it is opened.` },
    accountFacts(c),
    ...settingsLink(c),
    { kind: 'warning', text: CHANGE_PASSWORD_TO_STOP },
  ]);
}

/** Email changed: the notice to the OLD address once the new one was confirmed. */
export function emailChangedMessage(c: NoticeContext & { to: string }): MailContent {
  return build(`The email address of your ${PRODUCT} account was changed`, c.name, [
    { kind: 'p', text: `The email address of your ${PRODUCT} account was changed to ${c.to}, confirmed with the link sent to that address. This address no longer receives messages about the account, and links sent to it before no longer work.` },
    accountFacts(c),
    { kind: 'warning', text: "If this wasn't you, contact your administrator right away." },
  ]);
}

/** An administrator invited someone: the link sets the password of the new account. */
export function invitationMessage(c: LinkMessageContext & { tenantName: string; inviterName?: string }): MailContent {
  const who = c.inviterName ? `${c.inviterName} invited you` : 'You were invited';
  return build(`You're invited to ${c.tenantName} on ${PRODUCT}`, c.name, [
    { kind: 'p', text: `${who} to ${c.tenantName}. ${PRODUCT} is where you sign in to its business apps. Open the link below to choose your password. The link works once and expires at ${formatTime(c.expiresAt, c.timeZone)}.` },
    { kind: 'link', label: 'Choose your password', url: c.link },
    facts(c.email, c.tenantName, [['Sent', formatTime(c.at, c.timeZone)]]),
    { kind: 'p', text: 'Your organization may require two-factor authentication: then, after choosing your password, you set up an authenticator app such as Google Authenticator or Authy by scanning a QR code.' },
    { kind: 'warning', text: "If you weren't expecting this invitation, ignore this email and nothing happens." },
  ]);
}

/** One more authenticator can give the codes (a new phone); the others keep working. */
export function authenticatorAddedMessage(c: NoticeContext & { label: string; passkey?: boolean }): MailContent {
  const use = c.passkey ? 'It can now be used to sign in, with or without your password.' : 'It can now give the one-time codes for signing in.';
  return build(`A new authenticator was added to your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: `A new authenticator ("${c.label}") was added to your ${PRODUCT} account. ${use} Your other authenticators keep working until you remove them.` },
    accountFacts(c),
    ...settingsLink(c),
    { kind: 'warning', text: NOT_YOU },
  ]);
}

/** An authenticator was removed: its codes no longer work. */
export function authenticatorRemovedMessage(c: NoticeContext & { label: string; remaining: number }): MailContent {
  const remaining = Math.max(0, Math.floor(c.remaining));
  const left =
    remaining === 0
      ? 'Your account has no authenticator left, so two-factor authentication is off.'
      : `Your account still has ${plural(remaining, 'authenticator', 'authenticators')}.`;
  return build(`An authenticator was removed from your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: `The authenticator "${c.label}" was removed from your ${PRODUCT} account. Codes from it no longer work. ${left}` },
    accountFacts(c),
    ...settingsLink(c),
    { kind: 'warning', text: NOT_YOU },
  ]);
}

/** A sign-in from a browser the account had not used before (sent only when the deployment turns it on). */
export function newSignInMessage(c: NoticeContext & { browser?: string; ip?: string; clientName?: string }): MailContent {
  const rows: [string, string][] = [['When', formatTime(c.at, c.timeZone)]];
  if (c.clientName) rows.push(['App', c.clientName]);
  if (c.browser) rows.push(['Browser', c.browser]);
  if (c.ip) rows.push(['IP address', c.ip]);
  return build(`New sign-in to your ${PRODUCT} account`, c.name, [
    { kind: 'p', text: `Your ${PRODUCT} account was just used to sign in from a browser it had not been used in before.` },
    facts(c.email, c.tenantName, rows),
    { kind: 'p', text: 'If this was you, there is nothing to do.' },
    ...settingsLink(c),
    { kind: 'warning', text: "If this wasn't you, reset your password right away from the sign-in page (Forgot password?) and contact your administrator." },
  ]);
}

/** The administrator's summary of a bulk import (the imported users get no mail of their own). */
export function importSummaryMessage(c: NoticeContext & { tenantName: string; created: number; updated: number; unchanged: number; rejected: number }): MailContent {
  return build(`Users imported into ${c.tenantName} on ${PRODUCT}`, c.name, [
    { kind: 'p', text: `A bulk import of users into ${c.tenantName} finished. Imported users with an authenticator have MFA Status Active at once and sign in with the codes of the app they already use.` },
    {
      kind: 'facts',
      rows: [
        ['Created', String(c.created)],
        ['Updated', String(c.updated)],
        ['Unchanged', String(c.unchanged)],
        ['Rejected', String(c.rejected)],
        ['Finished', formatTime(c.at, c.timeZone)],
      ],
    },
    ...(c.rejected > 0 ? [{ kind: 'p' as const, text: 'The report of the import names each rejected row and the reason; fix those rows and import the file again. Rows already imported stay unchanged.' }] : []),
    { kind: 'warning', text: "If you didn't start this import, contact your platform operator right away." },
  ]);
}
