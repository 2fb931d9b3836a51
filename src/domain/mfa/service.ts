// MFA use cases: verify a TOTP or recovery code (with replay refusal and lockout), enrol a new
// authenticator, import one from another platform. Secrets are sealed before they reach a repository.
import type { Repos } from '../../store/repos.ts';
import type { SecretBox } from '../secrets.ts';
import type { PasswordHasher } from '../passwords.ts';
import type { Limit } from '../authentication.ts';
import type { NotificationTarget, RequestInfo, SecurityEvents } from '../events.ts';
import { formatSetupKey, generateTotpSecret, matchTotpStep, parseBase32Secret, totpUri } from './totp.ts';
import { findMatchingRecoveryCode, generateRecoveryCodes, hashRecoveryCodes } from './recovery-codes.ts';
import { qrCodeDataUrl } from './qr.ts';
import { lockoutState } from './lockout.ts';

export interface MfaOwner extends NotificationTarget {
  id: string;
  tenantId: string;
  tenantName: string;
}

export interface MfaSettings {
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  enrolPendingSeconds: number;
  mfaPerIp: number;
  windowSeconds: number;
}

export type VerifyOutcome =
  | { ok: true; factor: 'otp' | 'recovery_code'; remainingRecoveryCodes?: number }
  | { ok: false; reason: 'invalid'; attemptsLeft: number }
  | { ok: false; reason: 'locked'; lockedUntil: Date }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

export interface Enrolment {
  setupKey: string;
  uri: string;
  qrDataUrl: string;
  expiresAt: Date;
}

const secretContext = (accountId: string) => `totp:${accountId}`;

export function createMfaService(deps: {
  mfa: Repos['mfa'];
  lockouts: Repos['lockouts'];
  events: SecurityEvents;
  box: SecretBox;
  hasher: PasswordHasher;
  limit: Limit;
  settings: MfaSettings;
}) {
  const { mfa, lockouts, events, box, hasher, limit, settings } = deps;

  async function lockedUntil(accountId: string, now: Date): Promise<Date | null> {
    const state = lockoutState({ lockedUntil: (await lockouts.get(accountId))?.lockedUntil, now });
    return state.locked ? state.until : null;
  }

  /** Runs one second-factor attempt under the per-IP limit and the per-account lockout. */
  async function attempt(
    owner: MfaOwner,
    request: RequestInfo,
    now: Date,
    check: () => Promise<{ ok: true; factor: 'otp' | 'recovery_code'; remainingRecoveryCodes?: number } | { ok: false }>,
    failedAction: 'mfa.totp.check_failed' | 'mfa.recovery_code.check_failed',
  ): Promise<VerifyOutcome> {
    const perIp = await limit(`mfa:ip:${request.ip ?? 'unknown'}`, settings.mfaPerIp, settings.windowSeconds);
    if (!perIp.allowed) return { ok: false, reason: 'rate_limited', retryAfterSeconds: perIp.retryAfterSeconds };
    const locked = await lockedUntil(owner.id, now);
    if (locked) return { ok: false, reason: 'locked', lockedUntil: locked };

    const result = await check();
    const base = { actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request };
    if (result.ok) {
      await lockouts.reset(owner.id);
      return result;
    }
    const failure = await lockouts.recordFailure(owner.id, settings.lockout, now);
    await events.emit({ action: failedAction, ...base, detail: { failures: failure.failures } });
    if (failure.lockedUntil && failure.lockedUntil > now) {
      if (failure.justLocked) await events.emit({ action: 'mfa.locked', ...base, detail: { lockedUntil: failure.lockedUntil.toISOString() } }, owner);
      return { ok: false, reason: 'locked', lockedUntil: failure.lockedUntil };
    }
    return { ok: false, reason: 'invalid', attemptsLeft: Math.max(0, settings.lockout.threshold - failure.failures) };
  }

  return {
    lockedUntil,

    async hasAuthenticator(accountId: string): Promise<boolean> {
      return Boolean((await mfa.getTotp(accountId))?.confirmedAt);
    },

    async verifyTotp(owner: MfaOwner, code: string, request: RequestInfo, now = new Date()): Promise<VerifyOutcome> {
      return attempt(
        owner,
        request,
        now,
        async () => {
          const row = await mfa.getTotp(owner.id);
          if (!row?.confirmedAt) return { ok: false };
          const step = matchTotpStep(box.openText(row.secretEnc, secretContext(owner.id)), code, now);
          // The step is consumed atomically: a code accepted once is never accepted again (replay).
          if (step === null || !(await mfa.consumeTotpStep(owner.id, step))) return { ok: false };
          await events.emit({ action: 'mfa.totp.verified', actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request });
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
          const id = await findMatchingRecoveryCode(hasher, await mfa.listUnusedRecoveryCodes(owner.id), code);
          if (!id || !(await mfa.consumeRecoveryCode(id))) return { ok: false };
          const remaining = await mfa.countUnusedRecoveryCodes(owner.id);
          await events.emit(
            { action: 'mfa.recovery_code.used', actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request, detail: { remaining } },
            owner,
          );
          return { ok: true, factor: 'recovery_code', remainingRecoveryCodes: remaining };
        },
        'mfa.recovery_code.check_failed',
      );
    },

    /** Shows the pending authenticator, creating one when there is none that is still valid. */
    async startEnrolment(owner: MfaOwner, request: RequestInfo, now = new Date()): Promise<Enrolment> {
      const existing = await mfa.getTotp(owner.id);
      if (existing?.confirmedAt) throw new Error('account already has an authenticator');
      let secret: string;
      let expiresAt: Date;
      if (existing?.pendingExpiresAt && existing.pendingExpiresAt > now) {
        secret = box.openText(existing.secretEnc, secretContext(owner.id));
        expiresAt = existing.pendingExpiresAt;
      } else {
        secret = generateTotpSecret();
        expiresAt = new Date(now.getTime() + settings.enrolPendingSeconds * 1000);
        await mfa.savePendingTotp(owner.id, box.seal(secret, secretContext(owner.id)), expiresAt);
        await events.emit({ action: 'mfa.enrolment.started', actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request });
      }
      const uri = totpUri({ issuer: `Gatehouse (${owner.tenantName})`, label: owner.email, secret });
      return { setupKey: formatSetupKey(secret), uri, qrDataUrl: await qrCodeDataUrl(uri), expiresAt };
    },

    /** Confirms the pending authenticator with a code and issues the recovery codes (shown once). */
    async confirmEnrolment(
      owner: MfaOwner,
      code: string,
      request: RequestInfo,
      now = new Date(),
    ): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false; reason: 'invalid' | 'expired' }> {
      const row = await mfa.getTotp(owner.id);
      if (!row || row.confirmedAt || !row.pendingExpiresAt || row.pendingExpiresAt <= now) return { ok: false, reason: 'expired' };
      const step = matchTotpStep(box.openText(row.secretEnc, secretContext(owner.id)), code, now);
      if (step === null || !(await mfa.confirmPendingTotp(owner.id, step, now))) return { ok: false, reason: 'invalid' };
      const recoveryCodes = generateRecoveryCodes();
      await mfa.replaceRecoveryCodes(owner.id, await hashRecoveryCodes(hasher, recoveryCodes));
      await events.emit({ action: 'mfa.enrolled', actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request }, owner);
      return { ok: true, recoveryCodes };
    },

    /** Stores an authenticator the user already has on another platform, confirmed (issue: imported users). */
    async importTotp(owner: MfaOwner, base32: string, request: RequestInfo & { actorAccountId?: string }): Promise<void> {
      const secret = parseBase32Secret(base32);
      await mfa.importConfirmedTotp(owner.id, box.seal(secret, secretContext(owner.id)));
      await events.emit(
        { action: 'mfa.imported', actorAccountId: request.actorAccountId, tenantId: owner.tenantId, target: owner.id, ip: request.ip, requestId: request.requestId },
        owner,
      );
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
