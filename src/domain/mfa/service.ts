// MFA use cases at sign-in: check a TOTP or recovery code against the account's authenticators, with
// replay refusal and the lockout (DESIGN.md §9), and import an authenticator from another platform.
// Secrets are sealed before they reach a repository.
import type { Repos } from '../../store/repos.ts';
import type { Authenticator } from '../../store/repositories/authenticators.ts';
import type { SecretBox } from '../secrets.ts';
import type { PasswordHasher } from '../passwords.ts';
import type { Limit } from '../authentication.ts';
import type { NotificationTarget, RequestInfo, SecurityEvents } from '../events.ts';
import type { SecondFactor } from '../amr.ts';
import { matchTotpStep, parseBase32Secret } from './totp.ts';
import { findMatchingRecoveryCode } from './recovery-codes.ts';
import { lockSchedule, lockoutState } from './lockout.ts';
import { clientNetwork } from '../network.ts';

export interface MfaOwner extends NotificationTarget {
  id: string;
  tenantId: string;
  tenantName: string;
}

export interface MfaSettings {
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  mfaPerIp: number;
  windowSeconds: number;
}

export type VerifyOutcome =
  | { ok: true; factor: SecondFactor; remainingRecoveryCodes?: number }
  | { ok: false; reason: 'invalid'; attemptsLeft: number }
  | { ok: false; reason: 'locked'; lockedUntil: Date }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

type CheckResult = { ok: true; factor: SecondFactor; remainingRecoveryCodes?: number } | { ok: false };

export type AuthenticatorKind = 'totp' | 'webauthn';

/** The sealing context of a TOTP secret: a secret copied to another account's row does not open. */
export const totpSecretContext = (accountId: string) => `totp:${accountId}`;

/** The label an imported authenticator gets until its owner renames it. */
export const IMPORTED_LABEL = 'Authenticator app (imported)';

export type ImportOutcome = 'imported' | 'unchanged';

export function createMfaService(deps: {
  authenticators: Repos['authenticators'];
  recoveryCodes: Repos['recoveryCodes'];
  lockouts: Repos['lockouts'];
  events: SecurityEvents;
  box: SecretBox;
  hasher: PasswordHasher;
  limit: Limit;
  settings: MfaSettings;
}) {
  const { authenticators, recoveryCodes, lockouts, events, box, hasher, limit, settings } = deps;
  const lockPolicy = { threshold: settings.lockout.threshold, lockSeconds: lockSchedule(settings.lockout) };

  /**
   * One second-factor attempt: the per-IP limit, then an attempt reserved in the lockout counter, and
   * only then the check (DESIGN.md §12.12): parallel requests cannot check more codes than the threshold.
   */
  async function attempt(
    owner: MfaOwner,
    request: RequestInfo,
    now: Date,
    check: () => Promise<CheckResult>,
    failedAction: 'mfa.totp.check_failed' | 'mfa.recovery_code.check_failed',
  ): Promise<VerifyOutcome> {
    const perIp = await limit(`mfa:ip:${clientNetwork(request.ip)}`, settings.mfaPerIp, settings.windowSeconds);
    if (!perIp.allowed) return { ok: false, reason: 'rate_limited', retryAfterSeconds: perIp.retryAfterSeconds };
    const reservation = await lockouts.reserveAttempt(owner.id, lockPolicy, now);
    if (!reservation.granted) return { ok: false, reason: 'locked', lockedUntil: reservation.lockedUntil };

    const result = await check();
    if (result.ok) {
      await lockouts.reset(owner.id);
      return result;
    }
    const base = { actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request };
    await events.emit({ action: failedAction, ...base, detail: { attempt: reservation.attempt } });
    if (reservation.lockedUntil) {
      await events.emit({ action: 'mfa.locked', ...base, detail: { lockedUntil: reservation.lockedUntil.toISOString() } }, owner);
      return { ok: false, reason: 'locked', lockedUntil: reservation.lockedUntil };
    }
    return { ok: false, reason: 'invalid', attemptsLeft: Math.max(0, settings.lockout.threshold - reservation.attempt) };
  }

  /**
   * The TOTP authenticator whose code this is, with the step it matched; every secret is tried (no timing
   * oracle). `known`: the account's authenticators as this request already read them.
   */
  async function matchTotp(accountId: string, code: string, now: Date, known: readonly Authenticator[] | undefined) {
    const candidates = (known ?? (await authenticators.listForAccount(accountId))).filter((a) => a.accountId === accountId && a.kind === 'totp' && a.secretEnc);
    let matched: { id: string; step: number } | undefined;
    for (const a of candidates) {
      const step = matchTotpStep(box.openText(a.secretEnc ?? '', totpSecretContext(accountId)), code, now);
      if (step !== null && !matched) matched = { id: a.id, step };
    }
    return matched;
  }

  return {
    async hasAuthenticator(accountId: string): Promise<boolean> {
      return (await authenticators.countForAccount(accountId)) > 0;
    },

    /**
     * What a second-factor page reads, in one statement: the account's authenticators (to offer only the
     * kinds it can use, and to hand to `verifyTotp`, which then reads them no second time) and, while
     * the account is locked, when the lock ends.
     */
    async secondFactorState(accountId: string, now: Date): Promise<{ authenticators: readonly Authenticator[]; lockedUntil: Date | null }> {
      const read = await authenticators.listWithLock(accountId);
      const state = lockoutState({ lockedUntil: read.lockedUntil, now });
      return { authenticators: read.authenticators, lockedUntil: state.locked ? state.until : null };
    },

    /**
     * `known`: the owner's authenticators as this request already read them (`secondFactorState`): an
     * authenticator removed since is refused when its step is consumed, one added since is not tried.
     */
    async verifyTotp(owner: MfaOwner, code: string, request: RequestInfo, now = new Date(), known?: readonly Authenticator[]): Promise<VerifyOutcome> {
      return attempt(
        owner,
        request,
        now,
        async () => {
          const matched = await matchTotp(owner.id, code, now, known);
          // The step is consumed atomically per authenticator: a code accepted once is never accepted again (replay).
          if (!matched || !(await authenticators.consumeTotpStep(matched.id, matched.step, now))) return { ok: false };
          await events.emit({ action: 'mfa.totp.verified', actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request, detail: { authenticator: matched.id } });
          return { ok: true, factor: 'otp' };
        },
        'mfa.totp.check_failed',
      );
    },

    async verifyRecoveryCode(owner: MfaOwner, code: string, request: RequestInfo, now = new Date()): Promise<VerifyOutcome> {
      return attempt(
        owner,
        request,
        now,
        async () => {
          const id = await findMatchingRecoveryCode(hasher, await recoveryCodes.listUnused(owner.id), code);
          if (!id || !(await recoveryCodes.consume(id))) return { ok: false };
          const remaining = await recoveryCodes.countUnused(owner.id);
          await events.emit(
            { action: 'mfa.recovery_code.used', actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request, detail: { remaining } },
            owner,
          );
          return { ok: true, factor: 'recovery_code', remainingRecoveryCodes: remaining };
        },
        'mfa.recovery_code.check_failed',
      );
    },

    /**
     * Stores an authenticator the user already has on another platform, confirmed: it replaces the
     * account's authenticator apps and their recovery codes. Importing the secret the account already
     * has changes nothing (its used steps stay spent, so no code can be replayed) and sends no mail.
     */
    async importTotp(owner: MfaOwner, base32: string, request: RequestInfo & { actorAccountId?: string }): Promise<ImportOutcome> {
      const secret = parseBase32Secret(base32);
      const totps = (await authenticators.listForAccount(owner.id)).filter((a) => a.kind === 'totp');
      const [only, ...others] = totps;
      if (only && others.length === 0 && only.secretEnc && box.openText(only.secretEnc, totpSecretContext(owner.id)) === secret) return 'unchanged';
      await authenticators.replaceTotpWithImported({ accountId: owner.id, label: IMPORTED_LABEL, secretEnc: box.seal(secret, totpSecretContext(owner.id)) });
      await events.emit(
        { action: 'mfa.imported', actorAccountId: request.actorAccountId, tenantId: owner.tenantId, target: owner.id, ip: request.ip, requestId: request.requestId },
        owner,
      );
      return 'imported';
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
