import { describe, expect, it } from '@jest/globals';
import {
  authenticatorAddedMessage,
  authenticatorRemovedMessage,
  emailChangedMessage,
  emailChangeLinkMessage,
  emailChangeRequestedMessage,
  emailVerificationMessage,
  formatTime,
  invitationMessage,
  newSignInMessage,
  passwordChangedMessage,
  passwordResetLinkMessage,
  mfaDisabledMessage,
  mfaEnabledMessage,
  mfaLockedMessage,
  mfaResetLinkMessage,
  mfaResetMessage,
  newDeviceMessage,
  operatorSetupLinkMessage,
  recoveryCodeUsedMessage,
  recoveryCodesRegeneratedMessage,
  type MailContent,
} from '../../../src/mail/messages.ts';

const at = new Date('2025-03-03T14:05:00Z');
const who = { name: 'Ada', email: 'ada@example.com', tenantName: 'Northwind Traders', at, settingsUrl: 'https://id.example.com/account/security' };

const notices: [string, MailContent][] = [
  ['MFA enabled', mfaEnabledMessage(who)],
  ['MFA enabled with a passkey', mfaEnabledMessage({ ...who, passkey: true })],
  ['recovery code used', recoveryCodeUsedMessage({ ...who, remaining: 7 })],
  ['recovery codes regenerated', recoveryCodesRegeneratedMessage(who)],
  ['MFA disabled', mfaDisabledMessage(who)],
  ['MFA reset by self', mfaResetMessage({ ...who, by: 'self', setupRequired: false })],
  ['MFA reset by admin', mfaResetMessage({ ...who, by: 'admin', adminName: 'Grace', setupRequired: true })],
  ['new device', newDeviceMessage(who)],
  ['MFA locked', mfaLockedMessage({ ...who, lockedUntil: new Date('2025-03-03T14:20:00Z') })],
  ['authenticator added', authenticatorAddedMessage({ ...who, label: 'Pixel 9' })],
  ['passkey added', authenticatorAddedMessage({ ...who, label: 'Desk key', passkey: true })],
  ['authenticator removed', authenticatorRemovedMessage({ ...who, label: 'Old iPhone', remaining: 1 })],
  ['password changed', passwordChangedMessage({ ...who, via: 'reset_link' })],
  ['email change requested (to the current address)', emailChangeRequestedMessage({ ...who, to: 'ada@new.example' })],
  ['email changed (to the previous address)', emailChangedMessage({ ...who, to: 'ada@new.example' })],
  ['new sign-in from a new browser', newSignInMessage({ ...who, browser: 'Firefox on Linux', ip: '192.0.2.7', clientName: 'Acme MDR' })],
];

describe('security notice emails', () => {
  it.each(notices)('%s: names Gatehouse, the account, the time, and says what to do if it was not you', (_, m) => {
    expect(m.subject).toContain('Gatehouse');
    expect(m.subject).not.toMatch(/[\r\n]/);
    for (const part of [m.text, m.html]) {
      expect(part).toContain('Hello Ada,');
      expect(part).toContain('ada@example.com');
      expect(part).toContain('Northwind Traders');
      expect(part).toContain('3 March 2025 at 14:05 (UTC)');
      expect(part).toMatch(/If this wasn(’|'|&#39;)t you/);
      expect(part).toMatch(/contact your administrator/);
    }
    expect(m.html).toMatch(/^<!doctype html>/);
    expect(m.html).not.toMatch(/<script|style=/);
  });

  it('a passkey turning MFA on, or added, is named as a passkey, not an authenticator app or its codes', () => {
    expect(mfaEnabledMessage({ ...who, passkey: true }).text).toContain('A passkey or security key was added');
    expect(mfaEnabledMessage({ ...who, passkey: true }).text).not.toContain('An authenticator app was added');
    expect(authenticatorAddedMessage({ ...who, label: 'Desk key', passkey: true }).text).toContain('with or without your password');
    expect(authenticatorAddedMessage({ ...who, label: 'Desk key', passkey: true }).text).not.toContain('one-time codes');
  });

  it('recovery code used: says how many codes are left, and urges new ones when none are', () => {
    expect(recoveryCodeUsedMessage({ ...who, remaining: 7 }).text).toContain('You have 7 recovery codes left.');
    expect(recoveryCodeUsedMessage({ ...who, remaining: 1 }).text).toContain('You have 1 recovery code left.');
    expect(recoveryCodeUsedMessage({ ...who, remaining: 0 }).text).toContain('You have no recovery codes left.');
  });

  it('MFA reset: tells who did it and whether setup is required at the next sign-in', () => {
    const admin = mfaResetMessage({ ...who, by: 'admin', adminName: 'Grace', setupRequired: true });
    expect(admin.text).toContain('An administrator (Grace) reset');
    expect(admin.text).toContain('asked to set up your authenticator app again');
    const self = mfaResetMessage({ ...who, by: 'self', setupRequired: false });
    expect(self.text).toContain('confirmation link');
    expect(self.text).toContain('at any time from your security settings');
  });

  it('MFA locked: says until when', () => {
    expect(mfaLockedMessage({ ...who, lockedUntil: new Date('2025-03-03T14:20:00Z') }).text).toContain('Locked until: 3 March 2025 at 14:20 (UTC)');
  });

  it('escapes names in HTML', () => {
    const m = mfaEnabledMessage({ ...who, name: '<img src=x onerror=alert(1)>' });
    expect(m.html).not.toContain('<img');
    expect(m.html).toContain('&lt;img');
  });

  it('works without optional details', () => {
    const m = mfaDisabledMessage({ email: 'bob@example.com', at });
    expect(m.text).toMatch(/^Hello,/);
    expect(m.text).not.toContain('Organization');
    expect(m.text).not.toContain('security settings:\n');
  });
});

describe('link emails', () => {
  const link = 'https://id.example.com/setup/tok_abc123';
  it('operator setup link: shows the link in text and HTML with its expiry', () => {
    const m = operatorSetupLinkMessage({ email: 'op@example.com', link, at, expiresAt: new Date('2025-03-03T14:35:00Z') });
    expect(m.subject).toBe('Set up your Gatehouse operator account');
    expect(m.text).toContain(link);
    expect(m.text).toContain('expires at 3 March 2025 at 14:35 (UTC)');
    expect(m.html).toContain(`<a href="${link}">`);
  });

  it('MFA reset link: shows the link and says nothing changes if ignored', () => {
    const m = mfaResetLinkMessage({ email: 'ada@example.com', link, at, expiresAt: new Date('2025-03-03T14:35:00Z') });
    expect(m.text).toContain(link);
    expect(m.text).toContain('nothing changes unless the link is opened');
  });

  it('refuses non-web links', () => {
    expect(() => operatorSetupLinkMessage({ email: 'op@example.com', link: 'javascript:alert(1)', at, expiresAt: at })).toThrow();
  });
});

describe('self-service mails', () => {
  const link = `https://id.example.com/password/reset/${'t'.repeat(43)}`;
  const expiresAt = new Date('2025-03-03T14:35:00Z');

  it('password reset link: the link, its expiry, and that MFA stays on', () => {
    const m = passwordResetLinkMessage({ email: 'ada@example.com', link, at, expiresAt, tenantNames: ['Northwind Traders'] });
    expect(m.subject).toBe('Reset your Gatehouse password');
    for (const part of [m.text, m.html]) {
      expect(part).toContain(link);
      expect(part).toContain('expires at 3 March 2025 at 14:35 (UTC)');
      expect(part).toContain('Northwind Traders');
      expect(part).toMatch(/does not turn off two-factor authentication/);
      expect(part).toMatch(/your password stays the same unless the link is opened/);
    }
  });

  it('password reset link for an address with accounts in several organizations names them all and says each has its own password', () => {
    const m = passwordResetLinkMessage({ email: 'ada@example.com', link, at, expiresAt, tenantNames: ['Contoso', 'Fabrikam', 'Northwind'] });
    expect(m.text).toContain('in 3 organizations (Contoso, Fabrikam and Northwind)');
    expect(m.text).toContain('Each account has its own password');
  });

  it('password changed: says every session ended, and how it was changed', () => {
    expect(passwordChangedMessage({ ...who, via: 'reset_link' }).text).toContain('was changed using a password reset link sent to this address. You were signed out of every browser and app');
    expect(passwordChangedMessage(who).text).toContain('The password of your Gatehouse account was changed. You were signed out');
  });

  it('email verification: the link and the organization', () => {
    const m = emailVerificationMessage({ email: 'ada@example.com', link, at, expiresAt, tenantName: 'Fabrikam' });
    expect(m.subject).toBe('Confirm your email address for Gatehouse');
    expect(m.text).toContain(link);
    expect(m.html).toContain(`<a href="${link}">Confirm my email address</a>`);
    expect(m.text).toContain('Organization: Fabrikam');
  });

  it('email change: the link goes to the new address, names both addresses, and nothing changes unless it is confirmed', () => {
    const m = emailChangeLinkMessage({ email: 'ada@new.example', name: 'Ada', link, at, expiresAt, tenantName: 'Fabrikam', from: 'ada@example.com' });
    expect(m.subject).toBe('Verify your new email address for Gatehouse');
    for (const part of [m.text, m.html]) {
      expect(part).toContain(link);
      expect(part).toContain('ada@example.com');
      expect(part).toContain('ada@new.example');
      expect(part).toContain('expires at 3 March 2025 at 14:35 (UTC)');
      expect(part).toMatch(/nothing changes unless the link is opened and confirmed/);
    }
  });

  it('email change notices to the current address: carry no link, name the new address, and point to changing the password', () => {
    const { settingsUrl: _settings, ...withoutSettings } = who;
    const requested = emailChangeRequestedMessage({ ...withoutSettings, to: 'ada@new.example' });
    expect(requested.text).toContain('asked to change its email address to ada@new.example');
    expect(requested.text).toContain('change it right away');
    expect(requested.text).not.toMatch(/https?:\/\//);
    expect(emailChangedMessage({ ...who, to: 'ada@new.example' }).text).toContain('was changed to ada@new.example');
  });

  it('invitation: who invited, to which organization, and the link to choose a password', () => {
    const m = invitationMessage({ email: 'new@example.com', name: 'Nia', link, at, expiresAt, tenantName: 'Fabrikam', inviterName: 'Grace' });
    expect(m.subject).toBe("You're invited to Fabrikam on Gatehouse");
    expect(m.text).toContain('Hello Nia,');
    expect(m.text).toContain('Grace invited you to Fabrikam');
    expect(m.text).toContain(link);
  });

  it('authenticator removed: says when none is left that MFA is off', () => {
    expect(authenticatorRemovedMessage({ ...who, label: 'Old iPhone', remaining: 0 }).text).toContain('no authenticator left, so two-factor authentication is off');
    expect(authenticatorRemovedMessage({ ...who, label: 'Old iPhone', remaining: 2 }).text).toContain('still has 2 authenticators');
  });

  it('new sign-in: the app, browser and IP', () => {
    const m = newSignInMessage({ ...who, browser: 'Firefox on Linux', ip: '192.0.2.7', clientName: 'Acme MDR' });
    expect(m.text).toContain('App: Acme MDR');
    expect(m.text).toContain('Browser: Firefox on Linux');
    expect(m.text).toContain('IP address: 192.0.2.7');
  });
});

describe('formatTime', () => {
  it('formats in UTC by default and in a given zone', () => {
    expect(formatTime(at)).toBe('3 March 2025 at 14:05 (UTC)');
    expect(formatTime(at, 'Europe/Berlin')).toBe('3 March 2025 at 15:05 (Europe/Berlin)');
  });
});
