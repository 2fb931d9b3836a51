// Changing the email address, with small fakes: the rule table (what may be asked for), the password
// counted under the same limit as the console's other password forms, nothing changed before the
// link is confirmed, and a confirmed link that switches once, refuses a stale or taken address, and
// stops the links that went to the old address.
import { describe, expect, it } from '@jest/globals';
import { createEmailChange, decideEmailChange } from '../../../src/domain/email-change.ts';
import { createPasswordChange } from '../../../src/domain/password-change.ts';
import { createOneTimeLinks } from '../../../src/domain/one-time-links.ts';
import { createSecurityEvents, type NotificationTarget, type SecurityEvent } from '../../../src/domain/events.ts';
import type { NoticeKind, Recipient } from '../../../src/domain/notices.ts';
import type { PasswordHasher } from '../../../src/domain/passwords.ts';
import type { EmailSwitch } from '../../../src/store/repositories/account-email.ts';
import type { AccountWithTenant } from '../../../src/store/repositories/accounts.ts';
import type { EmailToken, NewEmailToken } from '../../../src/store/repositories/email-tokens.ts';

const ADA = '6f1e2a1c-0000-4000-8000-000000000001';
const BOB = '6f1e2a1c-0000-4000-8000-000000000002';

describe('decideEmailChange: which new address an account may ask for', () => {
  const base = { accountId: ADA, current: 'Ada@Example.com' };
  it.each([
    ['not an address', { requested: null, holderId: null }, { ok: false, reason: 'invalid_email' }],
    ['the current address', { requested: 'ada@example.com', holderId: ADA }, { ok: false, reason: 'unchanged' }],
    ['the current address in other letter case', { requested: 'ADA@EXAMPLE.COM', holderId: null }, { ok: false, reason: 'unchanged' }],
    ["another account of the tenant's address", { requested: 'bob@example.com', holderId: BOB }, { ok: false, reason: 'taken' }],
    ['a free address', { requested: 'ada@new.example', holderId: null }, { ok: true, email: 'ada@new.example' }],
  ])('%s', (_, input, expected) => {
    expect(decideEmailChange({ ...base, ...input })).toEqual(expected);
  });
});

function harness() {
  const tokens: EmailToken[] = [];
  const emailTokens = {
    async create(input: NewEmailToken) {
      const row: EmailToken = { id: String(tokens.length), accountId: input.accountId, email: input.email ?? null, purpose: input.purpose, tokenHash: input.tokenHash, detail: input.detail ?? {}, expiresAt: input.expiresAt, usedAt: null, createdAt: new Date() };
      tokens.push(row);
      return row;
    },
    async consume(hash: string, purpose: string, now: Date) {
      const row = tokens.find((t) => t.tokenHash === hash && t.purpose === purpose && !t.usedAt && t.expiresAt > now);
      if (!row) return null;
      row.usedAt = now;
      return row;
    },
    async findUsable(hash: string, purpose: string, now: Date) {
      return tokens.find((t) => t.tokenHash === hash && t.purpose === purpose && !t.usedAt && t.expiresAt > now);
    },
    async spendUnused(purpose: string, owner: { accountId: string } | { email: string }) {
      const spent = tokens.filter((t) => t.purpose === purpose && !t.usedAt && 'accountId' in owner && t.accountId === owner.accountId);
      for (const t of spent) t.usedAt = new Date();
      return spent.length;
    },
  };
  const ada = {
    id: ADA,
    email: 'ada@example.com',
    emailVerified: false,
    name: 'Ada',
    status: 'active',
    passwordHash: 'right',
    passwordChangedAt: null as Date | null,
    tenant: { id: 't1', name: 'Northwind' },
  } as unknown as AccountWithTenant;
  const others = new Map<string, string>([['bob@example.com', BOB]]);
  let switchTo: EmailSwitch | undefined;
  const accounts = {
    async findById(id: string) {
      return id === ADA ? { ...ada } : undefined;
    },
    async findInTenant(_tenantId: string, email: string) {
      const id = email === ada.email ? ADA : others.get(email);
      return id ? ({ id } as AccountWithTenant) : undefined;
    },
  };
  const switches: string[] = [];
  const accountEmail = {
    async switchEmail(id: string, from: string, to: string): Promise<EmailSwitch> {
      if (switchTo) return switchTo;
      if (id !== ADA || from !== ada.email) return 'stale';
      switches.push(to);
      ada.email = to;
      ada.emailVerified = true;
      return 'changed';
    },
  };
  const counted: string[] = [];
  const limit = async (key: string) => {
    counted.push(key);
    return { allowed: counted.filter((k) => k === key).length <= 10, retryAfterSeconds: 900 };
  };
  const hasher = {
    hash: async (p: string) => p,
    verify: async (stored: string | null, p: string) => ({ ok: stored === p, needsRehash: false }),
  } as PasswordHasher;
  const audit: SecurityEvent[] = [];
  const notified: { action: string; to: NotificationTarget }[] = [];
  const events = createSecurityEvents({ record: async (e: SecurityEvent) => audit.push(e) }, { notify: async (action, to) => void notified.push({ action, to }) });
  const mailed: { kind: NoticeKind; to: Recipient; link?: string }[] = [];
  const links = createOneTimeLinks({ emailTokens: emailTokens as never, baseUrl: 'https://id.example.com' });
  const change = createEmailChange({
    accounts,
    accountEmail,
    hasher,
    limit,
    limits: { perEmail: 5, perIp: 100, windowSeconds: 900 },
    links,
    postbox: {
      async send(kind, to, data) {
        mailed.push({ kind, to, ...('link' in data ? { link: data.link } : {}) });
      },
    },
    events,
  });
  const tokenOf = (link: string | undefined) => (link ?? '').split('/').pop() ?? '';
  return { ada, tokens, change, links, counted, audit, notified, mailed, switches, tokenOf, limit, hasher, events, setSwitch: (s: EmailSwitch) => (switchTo = s) };
}

describe('createEmailChange', () => {
  it('refuses a wrong password before anything else, counted under the limit the password page uses', async () => {
    const h = harness();
    await expect(h.change.request(h.ada, { email: 'ada@new.example', password: 'wrong' }, {})).rejects.toMatchObject({ code: 'wrong_password', status: 401 });
    const passwordChange = createPasswordChange({ accounts: { updatePasswordHash: async () => true }, hasher: h.hasher, limit: h.limit, endOtherSessions: async () => 0, rememberedBrowsers: { forgetAll: async () => 0 }, events: h.events });
    await expect(passwordChange.change(h.ada, { current: 'wrong', password: 'x'.repeat(20), confirm: 'x'.repeat(20) }, 'uid', {})).rejects.toMatchObject({ code: 'wrong_password' });
    expect(h.counted).toEqual([`self-password:${ADA}`, `self-password:${ADA}`]);
    for (let i = 0; i < 8; i++) await h.change.request(h.ada, { email: 'ada@new.example', password: 'wrong' }, {}).catch(() => undefined);
    await expect(h.change.request(h.ada, { email: 'ada@new.example', password: 'right' }, {})).rejects.toMatchObject({ code: 'too_many_requests', status: 429 });
    expect(h.mailed).toEqual([]);
  });

  it.each([
    ['not an address', 'not-an-address', 'invalid_email', 400],
    ['the current address', ' ADA@example.com ', 'email_unchanged', 400],
    ["another account's address in the tenant", 'bob@example.com', 'email_taken', 409],
  ])('refuses %s with a clear 4xx and mails nothing', async (_, email, code, status) => {
    const h = harness();
    await expect(h.change.request(h.ada, { email, password: 'right' }, {})).rejects.toMatchObject({ code, status });
    expect(h.mailed).toEqual([]);
    expect(h.tokens).toEqual([]);
  });

  it('mails the link to the new address and a notice to the current one, and changes nothing yet', async () => {
    const h = harness();
    expect(await h.change.request(h.ada, { email: ' Ada@New.Example ', password: 'right' }, {})).toMatchObject({ ok: true, email: 'ada@new.example' });
    expect(h.mailed).toEqual([{ kind: 'email.change_link', to: { email: 'ada@new.example', name: 'Ada' }, link: expect.stringMatching(/^https:\/\/id\.example\.com\/email\/change\/[\w-]{43}$/) }]);
    expect(h.notified).toEqual([{ action: 'email.change_requested', to: { email: 'ada@example.com', name: 'Ada' } }]);
    expect(h.ada.email).toBe('ada@example.com');
    expect(h.audit.find((e) => e.action === 'email.change_requested')).toMatchObject({ actorAccountId: ADA, target: ADA, detail: { to: 'ada@new.example' } });
  });

  it('confirms once: switches, audits with the actor, tells the old address, and stops links sent to the old address', async () => {
    const h = harness();
    const reset = await h.links.issue('mfa_reset', { accountId: ADA, email: 'ada@example.com' });
    await h.change.request(h.ada, { email: 'ada@new.example', password: 'right' }, {});
    const token = h.tokenOf(h.mailed[0]?.link);
    expect(await h.change.peek(token)).toMatchObject({ from: 'ada@example.com', to: 'ada@new.example' });
    expect(h.switches).toEqual([]);
    expect(await h.change.confirm(token, {})).toEqual({ email: 'ada@new.example', tenantName: 'Northwind' });
    expect(h.switches).toEqual(['ada@new.example']);
    expect(h.audit.find((e) => e.action === 'email.changed')).toMatchObject({ actorAccountId: ADA, target: ADA, detail: { from: 'ada@example.com', to: 'ada@new.example' } });
    expect(h.notified.map((n) => [n.action, n.to.email])).toContainEqual(['email.changed', 'ada@example.com']);
    expect(await h.links.peek('mfa_reset', reset.token)).toBeNull();
    await expect(h.change.confirm(token, {})).rejects.toMatchObject({ code: 'link_invalid', status: 410 });
  });

  it('a newer request supersedes the older link', async () => {
    const h = harness();
    await h.change.request(h.ada, { email: 'first@new.example', password: 'right' }, {});
    await h.change.request(h.ada, { email: 'second@new.example', password: 'right' }, {});
    await expect(h.change.confirm(h.tokenOf(h.mailed[0]?.link), {})).rejects.toMatchObject({ code: 'link_invalid' });
    expect(await h.change.confirm(h.tokenOf(h.mailed[1]?.link), {})).toMatchObject({ email: 'second@new.example' });
  });

  it('a password change after the request cancels it', async () => {
    const h = harness();
    await h.change.request(h.ada, { email: 'ada@new.example', password: 'right' }, {});
    (h.ada as { passwordChangedAt: Date | null }).passwordChangedAt = new Date(Date.now() + 1000);
    const token = h.tokenOf(h.mailed[0]?.link);
    await expect(h.change.peek(token)).rejects.toMatchObject({ code: 'link_invalid' });
    await expect(h.change.confirm(token, {})).rejects.toMatchObject({ code: 'link_invalid' });
    expect(h.switches).toEqual([]);
  });

  it('an address taken by another account of the tenant meanwhile: 409, nothing changed, nobody told it changed', async () => {
    const h = harness();
    await h.change.request(h.ada, { email: 'ada@new.example', password: 'right' }, {});
    h.setSwitch('taken');
    await expect(h.change.confirm(h.tokenOf(h.mailed[0]?.link), {})).rejects.toMatchObject({ code: 'email_taken', status: 409 });
    expect(h.ada.email).toBe('ada@example.com');
    expect(h.notified.map((n) => n.action)).not.toContain('email.changed');
    expect(h.audit.find((e) => e.action === 'email.change_link.refused')).toMatchObject({ target: ADA, detail: { reason: 'taken' } });
  });
});
