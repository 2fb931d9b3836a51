// Changing one's password from the account console: the current password, a new one under the same
// rules as `user create` and the reset link, typed twice. Every other session of the account ends
// (the browser making the change stays signed in), no browser keeps skipping the code, and the owner
// is mailed.
import type { Repos } from '../store/repos.ts';
import type { AccountWithTenant } from '../store/repositories/accounts.ts';
import type { Limit } from './authentication.ts';
import { badRequest, GatehouseError } from './errors.ts';
import type { RequestInfo, SecurityEvents } from './events.ts';
import { validateNewPassword, type PasswordHasher } from './passwords.ts';
import { checkCurrentPassword } from './current-password.ts';
import type { RememberedBrowsers } from './mfa/remembered-browsers.ts';

export function createPasswordChange(deps: {
  accounts: Pick<Repos['accounts'], 'updatePasswordHash'>;
  hasher: PasswordHasher;
  limit: Limit;
  /** ends every session of the account but `keepUid`; returns how many ended. */
  endOtherSessions: (accountId: string, keepUid: string) => Promise<number>;
  rememberedBrowsers: Pick<RememberedBrowsers, 'forgetAll'>;
  events: SecurityEvents;
}) {
  return {
    async change(account: AccountWithTenant, input: { current: string; password: string; confirm: string }, keepUid: string, request: RequestInfo): Promise<{ sessionsEnded: number }> {
      await checkCurrentPassword(deps, account, input.current);
      validateNewPassword(input.password);
      if (input.password !== input.confirm) throw badRequest('The two new passwords do not match.', 'password_mismatch');
      if (input.password === input.current) throw badRequest('Choose a password different from your current one.', 'password_unchanged');
      if (!(await deps.accounts.updatePasswordHash(account.id, await deps.hasher.hash(input.password)))) throw new GatehouseError('not_found', 404, 'This account is no longer available.');
      const sessionsEnded = await deps.endOtherSessions(account.id, keepUid);
      await deps.rememberedBrowsers.forgetAll({ id: account.id, tenantId: account.tenant.id }, 'password_changed', request);
      const who = { actorAccountId: account.id, tenantId: account.tenant.id, target: account.id, ...request };
      if (sessionsEnded > 0) await deps.events.emit({ action: 'account.session.ended', ...who, detail: { sessions: sessionsEnded, by: 'password_change' } });
      await deps.events.emit({ action: 'password.changed', ...who, detail: { via: 'settings', sessionsEnded, tenantName: account.tenant.name } }, { email: account.email, name: account.name });
      return { sessionsEnded };
    },
  };
}

export type PasswordChange = ReturnType<typeof createPasswordChange>;
