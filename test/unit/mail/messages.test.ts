import { describe, expect, it } from '@jest/globals';
import {
  formatTime,
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
  ['recovery code used', recoveryCodeUsedMessage({ ...who, remaining: 7 })],
  ['recovery codes regenerated', recoveryCodesRegeneratedMessage(who)],
  ['MFA disabled', mfaDisabledMessage(who)],
  ['MFA reset by self', mfaResetMessage({ ...who, by: 'self', setupRequired: false })],
  ['MFA reset by admin', mfaResetMessage({ ...who, by: 'admin', adminName: 'Grace', setupRequired: true })],
  ['new device', newDeviceMessage(who)],
  ['MFA locked', mfaLockedMessage({ ...who, lockedUntil: new Date('2025-03-03T14:20:00Z') })],
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

describe('formatTime', () => {
  it('formats in UTC by default and in a given zone', () => {
    expect(formatTime(at)).toBe('3 March 2025 at 14:05 (UTC)');
    expect(formatTime(at, 'Europe/Berlin')).toBe('3 March 2025 at 15:05 (Europe/Berlin)');
  });
});
