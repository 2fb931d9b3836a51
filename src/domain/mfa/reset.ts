// One MFA reset, whoever asks for it: an administrator (NinjaOne "Reset MFA" → "Yes, continue") or the
// user through the emailed confirmation link. Both must leave the account in the same state, so both
// call this: every authenticator and recovery code removed, the lockout cleared, every session ended
// (a session signed in with the old device must not outlive it), the reset audited with who did it to
// whom, and the owner mailed that they set MFA up again at their next sign-in. Who may reset whom is
// the caller's decision (can() for admins, the link for the user); this does the work.
import type { Repos } from '../../store/repos.ts';
import type { RequestInfo, SecurityEvent, SecurityEvents } from '../events.ts';
import type { MfaPolicySource, PolicySubject } from './policy-source.ts';

export type MfaResetReason = 'admin' | 'self';

export interface MfaResetDeps {
  authenticators: Pick<Repos['authenticators'], 'removeAllForAccount'>;
  recoveryCodes: Pick<Repos['recoveryCodes'], 'removeAllForAccount'>;
  lockouts: Pick<Repos['lockouts'], 'reset'>;
  events: SecurityEvents;
  /** ends every SSO session of the account (grants revoked, back-channel logout to the apps). */
  endSessions: (accountId: string) => Promise<{ sessions: number }>;
  /** whether the tenant policy requires MFA of the account: the mail then says setup comes at the next sign-in. */
  policy: MfaPolicySource;
}

/** The account whose MFA is reset, as `repos.accounts.findById` reads it. */
export interface MfaResetAccount extends PolicySubject {
  email: string;
  name: string | null;
  tenant: PolicySubject['tenant'] & { name: string };
}

export interface MfaResetRequest {
  account: MfaResetAccount;
  reason: MfaResetReason;
  /** who acted, as the audit log names them (for `self`, the account itself). */
  actor: Pick<SecurityEvent, 'actorAccountId' | 'actor'>;
  request: RequestInfo;
}

export interface MfaResetResult {
  authenticatorsRemoved: number;
  recoveryCodesRemoved: number;
  sessionsEnded: number;
  /** the policy requires MFA, so the next sign-in goes through setup. */
  setupRequired: boolean;
}

export function createMfaReset(deps: MfaResetDeps) {
  const { authenticators, recoveryCodes, lockouts, events } = deps;
  return {
    async reset({ account, reason, actor, request }: MfaResetRequest): Promise<MfaResetResult> {
      const authenticatorsRemoved = await authenticators.removeAllForAccount(account.id);
      const recoveryCodesRemoved = await recoveryCodes.removeAllForAccount(account.id);
      // a lock protects codes that no longer exist; the user's next sign-in starts clean
      await lockouts.reset(account.id);
      const setupRequired = await deps.policy.requiresMfa(account);
      // audited (and mailed) before the sessions end: if ending them fails, the reset is still on record
      await events.emit(
        {
          action: reason === 'admin' ? 'mfa.reset_by_admin' : 'mfa.reset_by_self',
          ...actor,
          tenantId: account.tenant.id,
          target: account.id,
          ...request,
          detail: { reason, authenticators: authenticatorsRemoved, recovery_codes: recoveryCodesRemoved, setupRequired, tenantName: account.tenant.name },
        },
        { email: account.email, name: account.name },
      );
      const ended = await deps.endSessions(account.id);
      if (ended.sessions > 0) {
        await events.emit({ action: 'account.sessions.ended', ...actor, tenantId: account.tenant.id, target: account.id, ...request, detail: { sessions: ended.sessions, reason: 'mfa_reset' } });
      }
      return { authenticatorsRemoved, recoveryCodesRemoved, sessionsEnded: ended.sessions, setupRequired };
    },
  };
}

export type MfaReset = ReturnType<typeof createMfaReset>;
