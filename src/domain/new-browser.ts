// The optional "new sign-in from a new browser" notice (NEW_BROWSER_NOTICE). A browser remembers,
// in an HttpOnly cookie, keyed digests of the accounts that signed in with it; a sign-in whose account
// is not among them mails the owner and adds it. The digests name no account to whoever reads the
// cookie, and a cleared cookie only means one more notice.
import { createHmac } from 'node:crypto';
import type { RequestInfo } from './events.ts';
import type { Postbox } from './notices.ts';
import type { SecretBox } from './secrets.ts';

const KEEP = 20;
const ENTRY = /^[A-Za-z0-9_-]{22}$/;

export function createNewBrowserNotice(deps: { enabled: boolean; box: SecretBox; postbox: Postbox; defer: (label: string, work: () => Promise<void>) => void }) {
  const key = deps.box.deriveKey('known-browser');
  const tag = (accountId: string) => createHmac('sha256', key).update(accountId).digest('base64url').slice(0, 22);

  return {
    enabled: deps.enabled,
    /**
     * After a sign-in: the new cookie value when this browser had not signed this account in before
     * (the notice is then queued after the answer), undefined otherwise.
     */
    signedIn(cookie: string | undefined, account: { id: string; email: string; name: string | null; tenant: { name: string } }, request: RequestInfo, clientName: string): string | undefined {
      if (!deps.enabled) return undefined;
      const known = (cookie ?? '').split('.').filter((e) => ENTRY.test(e)).slice(0, KEEP);
      const mine = tag(account.id);
      if (known.includes(mine)) return undefined;
      deps.defer('new browser notice', () =>
        deps.postbox.send('signin.new_browser', { email: account.email, name: account.name }, {
          tenantName: account.tenant.name,
          ...(request.userAgent ? { browser: request.userAgent.slice(0, 200) } : {}),
          ...(request.ip ? { ip: request.ip } : {}),
          clientName,
        }),
      );
      return [mine, ...known].slice(0, KEEP).join('.');
    },
  };
}

export type NewBrowserNotice = ReturnType<typeof createNewBrowserNotice>;
