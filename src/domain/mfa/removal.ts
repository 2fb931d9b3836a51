// Turning MFA off and removing an authenticator, for the account's owner (Security Settings). NinjaOne:
// "Can I turn off my MFA if my partner enforces MFA?" — no. An account whose tenant policy enforces MFA
// can neither disable MFA nor remove its last authenticator (`mfa_enforced`); it may still replace a
// device by adding the new one first, and an administrator's reset (src/domain/mfa/reset.ts) stays
// available for a lost device.
import type { Repos } from '../../store/repos.ts';
import { GatehouseError, notFound } from '../errors.ts';
import type { RequestInfo, SecurityEvents } from '../events.ts';
import type { MfaPolicySource } from './policy-source.ts';
import type { MfaResetAccount } from './reset.ts';

export const mfaEnforced = () =>
  new GatehouseError(
    'mfa_enforced',
    403,
    'Your organization requires multi-factor authentication, so you cannot turn it off or remove your last authenticator. To replace a device, add the new one first; if you lost it, ask your administrator to reset MFA.',
  );

export function createMfaRemoval(deps: {
  authenticators: Pick<Repos['authenticators'], 'listForAccount' | 'remove' | 'removeUnlessLast' | 'removeAllForAccount'>;
  recoveryCodes: Pick<Repos['recoveryCodes'], 'removeAllForAccount'>;
  events: SecurityEvents;
  policy: MfaPolicySource;
}) {
  const { authenticators, recoveryCodes, events, policy } = deps;
  const owner = (account: MfaResetAccount) => ({ email: account.email, name: account.name });

  return {
    /** Whether the settings page may offer "Turn off MFA" (the policy does not enforce it). */
    async mayDisable(account: MfaResetAccount): Promise<boolean> {
      return !(await policy.requiresMfa(account));
    },

    /** Removes every authenticator and recovery code; refused with `mfa_enforced` under an enforcing policy. */
    async disable(account: MfaResetAccount, request: RequestInfo): Promise<{ authenticatorsRemoved: number }> {
      if (await policy.requiresMfa(account)) throw mfaEnforced();
      const authenticatorsRemoved = await authenticators.removeAllForAccount(account.id);
      await recoveryCodes.removeAllForAccount(account.id);
      await events.emit(
        { action: 'mfa.disabled', actorAccountId: account.id, tenantId: account.tenant.id, target: account.id, ...request, detail: { authenticators: authenticatorsRemoved, tenantName: account.tenant.name } },
        owner(account),
      );
      return { authenticatorsRemoved };
    },

    /** Removes one authenticator; under an enforcing policy never the last one (`mfa_enforced`). */
    async removeAuthenticator(account: MfaResetAccount, authenticatorId: string, request: RequestInfo): Promise<{ remaining: number }> {
      const label = (await authenticators.listForAccount(account.id)).find((a) => a.id === authenticatorId)?.label;
      const enforced = await policy.requiresMfa(account);
      const outcome = enforced
        ? await authenticators.removeUnlessLast(account.id, authenticatorId)
        : (await authenticators.remove(account.id, authenticatorId))
          ? 'removed'
          : 'not_found';
      if (outcome === 'not_found') throw notFound('No such authenticator.', 'authenticator_not_found');
      if (outcome === 'last') throw mfaEnforced();
      const remaining = (await authenticators.listForAccount(account.id)).length;
      // the recovery codes belong to the authenticator set: with none left they are useless and go too
      if (remaining === 0) await recoveryCodes.removeAllForAccount(account.id);
      await events.emit(
        { action: 'mfa.authenticator.removed', actorAccountId: account.id, tenantId: account.tenant.id, target: account.id, ...request, detail: { label, remaining, tenantName: account.tenant.name } },
        owner(account),
      );
      return { remaining };
    },
  };
}

export type MfaRemoval = ReturnType<typeof createMfaRemoval>;
