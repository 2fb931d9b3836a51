// The forgotten-password use case with small fakes: the answer is decided before the address is even
// looked up (no enumeration by content or timing), a typo never spends the link, and a link only
// resets one of the accounts it was issued for.
import { describe, expect, it } from '@jest/globals';
import { createPasswordReset, type EndSessions } from '../../../src/domain/password-reset.ts';
import { createOneTimeLinks } from '../../../src/domain/one-time-links.ts';
import { createSecurityEvents, type SecurityEvent } from '../../../src/domain/events.ts';
import type { Defer } from '../../../src/domain/link-requests.ts';
import type { NoticeKind } from '../../../src/domain/notices.ts';
import type { EmailToken, NewEmailToken } from '../../../src/store/repositories/email-tokens.ts';

const ada = { id: '6f1e2a1c-0000-4000-8000-000000000001', email: 'ada@example.com', name: 'Ada', status: 'active' as const, passwordHash: 'old', tenant: { id: 't1', name: 'Northwind' } };

function harness() {
  const tokens: EmailToken[] = [];
  const emailTokens = {
    async create(input: NewEmailToken) {
      const row: EmailToken = {
        id: String(tokens.length),
        accountId: input.accountId,
        email: input.email ?? null,
        purpose: input.purpose,
        tokenHash: input.tokenHash,
        detail: input.detail ?? {},
        expiresAt: input.expiresAt,
        usedAt: null,
        createdAt: new Date(),
      };
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
    async spendUnused() {
      return 0;
    },
  };
  const lookups: string[] = [];
  const hashes = new Map<string, string>([[ada.id, 'old']]);
  const accounts = {
    async findByEmail(email: string) {
      lookups.push(email);
      return email === ada.email ? [{ ...ada, passwordHash: hashes.get(ada.id) ?? null }] : [];
    },
    async findById(id: string) {
      return id === ada.id ? { ...ada, passwordHash: hashes.get(ada.id) ?? null } : undefined;
    },
    async updatePasswordHash(id: string, hash: string) {
      hashes.set(id, hash);
      return true;
    },
  };
  const sent: { kind: NoticeKind; link?: string }[] = [];
  const audit: SecurityEvent[] = [];
  const deferred: (() => Promise<void>)[] = [];
  const defer: Defer = (_label, work) => void deferred.push(work);
  const ended: string[] = [];
  const forgotten: string[] = [];
  const endSessions: EndSessions = async (id) => {
    ended.push(id);
    return 2;
  };
  const links = createOneTimeLinks({ emailTokens: emailTokens as never, baseUrl: 'https://id.example.com' });
  const reset = createPasswordReset({
    accounts: accounts as never,
    accountEmail: { markVerified: async () => true },
    links,
    postbox: {
      async send(kind, _to, data) {
        sent.push({ kind, ...('link' in data ? { link: data.link } : {}) });
      },
    },
    hasher: { hash: async (p: string) => `hashed:${p}` },
    events: createSecurityEvents({ record: async (e: SecurityEvent) => audit.push(e) }, { notify: async () => undefined }),
    endSessions,
    forgetBrowsers: async (who) => forgotten.push(who.id),
    limit: async () => ({ allowed: true, retryAfterSeconds: 0 }),
    defer,
  });
  const runDeferred = async () => {
    while (deferred.length) await deferred.shift()?.();
  };
  const tokenOf = (link = '') => link.split('/').at(-1) ?? '';
  return { reset, lookups, sent, audit, runDeferred, hashes, ended, forgotten, tokenOf, deferred };
}

describe('forgotten password use case', () => {
  it('answers before looking the address up, for a known and an unknown address alike', async () => {
    const h = harness();
    expect(await h.reset.requestLink('Ada@Example.com', {})).toEqual({ ok: true });
    expect(await h.reset.requestLink('nobody@example.com', {})).toEqual({ ok: true });
    expect(h.lookups).toEqual([]); // nothing known yet when the answer is given
    expect(h.deferred).toHaveLength(2);
    await h.runDeferred();
    expect(h.lookups).toEqual(['ada@example.com', 'nobody@example.com']);
    expect(h.sent.map((s) => s.kind)).toEqual(['password.reset_link']); // only the known address gets mail
    const requested = h.audit.filter((e) => e.action === 'password.reset_requested');
    expect(requested.map((e) => [e.target, e.detail])).toEqual([
      [ada.id, { accounts: 1 }],
      [undefined, { accounts: 0 }],
    ]);
  });

  it('refuses a malformed address with a 400 and counts nothing', async () => {
    const h = harness();
    await expect(h.reset.requestLink('not an address', {})).rejects.toMatchObject({ status: 400, code: 'invalid_email' });
    expect(h.deferred).toHaveLength(0);
  });

  it('answers "rate limited" the same way whatever the address, and defers no work', async () => {
    const limited = createPasswordReset({
      accounts: {} as never,
      accountEmail: {} as never,
      links: {} as never,
      postbox: {} as never,
      hasher: {} as never,
      events: createSecurityEvents({ record: async () => undefined }, { notify: async () => undefined }),
      endSessions: async () => 0,
      forgetBrowsers: async () => 0,
      limit: async () => ({ allowed: false, retryAfterSeconds: 120 }),
      defer: () => {
        throw new Error('no work may be deferred when refused');
      },
    });
    for (const email of ['ada@example.com', 'nobody@example.com']) {
      expect(await limited.requestLink(email, {})).toEqual({ ok: false, reason: 'rate_limited', retryAfterSeconds: 120 });
    }
  });

  it('keeps the link usable after a weak, mismatched or unchosen password, then spends it once', async () => {
    const h = harness();
    await h.reset.requestLink(ada.email, {});
    await h.runDeferred();
    const token = h.tokenOf(h.sent[0]?.link);
    await expect(h.reset.complete(token, { password: 'short', confirm: 'short' }, {})).rejects.toMatchObject({ code: 'weak_password' });
    await expect(h.reset.complete(token, { password: 'long enough one', confirm: 'long enough two' }, {})).rejects.toMatchObject({ code: 'password_mismatch' });
    await expect(h.reset.complete(token, { accountId: '6f1e2a1c-0000-4000-8000-000000000099', password: 'long enough', confirm: 'long enough' }, {})).rejects.toMatchObject({ code: 'choose_account' });
    expect(h.hashes.get(ada.id)).toBe('old');

    const done = await h.reset.complete(token, { password: 'long enough', confirm: 'long enough' }, {});
    expect(done).toMatchObject({ accountId: ada.id });
    expect(h.hashes.get(ada.id)).toBe('hashed:long enough');
    expect(h.ended).toEqual([ada.id]);
    expect(h.forgotten).toEqual([ada.id]);
    await expect(h.reset.complete(token, { password: 'another one!', confirm: 'another one!' }, {})).rejects.toMatchObject({ code: 'link_invalid', status: 410 });
    expect(h.hashes.get(ada.id)).toBe('hashed:long enough');
    expect(h.audit.map((e) => e.action)).toEqual(expect.arrayContaining(['auth.signed_out', 'password.changed']));
  });

  it('answers garbage and unknown tokens with link_invalid (410)', async () => {
    const h = harness();
    for (const token of ['', 'x', 'A'.repeat(43), '../../etc/passwd']) {
      await expect(h.reset.open(token)).rejects.toMatchObject({ code: 'link_invalid', status: 410 });
    }
  });
});
