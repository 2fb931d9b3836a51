// The current password, asked again by the account console before a sensitive change (new password,
// new email address, MFA off or reset). Every attempt is counted against one per-account limit shared
// by all those forms before the password is checked (DESIGN.md §12.12), so together they are no
// password oracle.
import type { AccountWithTenant } from '../store/repositories/accounts.ts';
import type { Limit } from './authentication.ts';
import { GatehouseError } from './errors.ts';
import type { PasswordHasher } from './passwords.ts';

/** Attempts per account per window, across every form that asks for the current password. */
export const CURRENT_PASSWORD_ATTEMPTS = { max: 10, windowSeconds: 900 } as const;

export async function checkCurrentPassword(
  deps: { limit: Limit; hasher: PasswordHasher },
  account: Pick<AccountWithTenant, 'id' | 'passwordHash'>,
  password: string,
): Promise<void> {
  const allowed = await deps.limit(`self-password:${account.id}`, CURRENT_PASSWORD_ATTEMPTS.max, CURRENT_PASSWORD_ATTEMPTS.windowSeconds);
  if (!allowed.allowed) throw new GatehouseError('too_many_requests', 429, 'Too many attempts. Wait a few minutes and try again.');
  if (!(await deps.hasher.verify(account.passwordHash, password)).ok) throw new GatehouseError('wrong_password', 401, 'Your current password is not correct.');
}
