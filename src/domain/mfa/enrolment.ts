// Setting up an authenticator app (DESIGN.md §5 step 2, §12.11). A pending enrolment is a flow bound to
// one interaction or settings session: each browser gets its own secret, sealed in its flow, and nothing
// is written to the account until a code from that secret confirms it. Shared by forced setup at sign-in,
// step-up setup and Security Settings.
import type { Repos } from '../../store/repos.ts';
import type { Flows } from '../flows.ts';
import type { PasswordHasher } from '../passwords.ts';
import type { RequestInfo, SecurityEvents } from '../events.ts';
import { formatSetupKey, generateTotpSecret, matchTotpStep, totpUri } from './totp.ts';
import { generateRecoveryCodes, hashRecoveryCodes } from './recovery-codes.ts';
import { qrCodeDataUrl } from './qr.ts';
import { totpSecretContext, type MfaOwner } from './service.ts';
import type { SecretBox } from '../secrets.ts';

export interface Enrolment {
  flowId: string;
  setupKey: string;
  uri: string;
  qrDataUrl: string;
  expiresAt: Date;
}

/**
 * first: the account's first authenticator (forced or step-up setup at sign-in): refused once the
 * account has one, so a second browser that knows the password must verify with it instead; recovery
 * codes are issued. additional: another device added from Security Settings; the codes stay.
 */
export type EnrolmentMode = 'first' | 'additional';

export type ConfirmOutcome =
  | { ok: true; authenticatorId: string; recoveryCodes: string[] | undefined }
  | { ok: false; reason: 'invalid' | 'expired' | 'already_enrolled' };

interface Pending {
  secret: string;
}

export const DEFAULT_TOTP_LABEL = 'Authenticator app';

export function createTotpEnrolment(deps: {
  flows: Flows;
  authenticators: Repos['authenticators'];
  recoveryCodes: Repos['recoveryCodes'];
  events: SecurityEvents;
  box: SecretBox;
  hasher: PasswordHasher;
  settings: { pendingSeconds: number };
}) {
  const { flows, authenticators, recoveryCodes, events, box, hasher, settings } = deps;
  const ref = (owner: MfaOwner, binding: string, id: string) => ({ id, kind: 'totp_enrolment' as const, accountId: owner.id, binding });

  async function present(owner: MfaOwner, flow: { id: string; payload: Pending; expiresAt: Date }): Promise<Enrolment> {
    const uri = totpUri({ issuer: `Gatehouse (${owner.tenantName})`, label: owner.email, secret: flow.payload.secret });
    return { flowId: flow.id, setupKey: formatSetupKey(flow.payload.secret), uri, qrDataUrl: await qrCodeDataUrl(uri), expiresAt: flow.expiresAt };
  }

  return {
    /** A new secret for this binding only. */
    async start(owner: MfaOwner, binding: string, request: RequestInfo, now = new Date()): Promise<Enrolment> {
      const flow = await flows.start<Pending>({ kind: 'totp_enrolment', accountId: owner.id, binding }, { secret: generateTotpSecret() }, settings.pendingSeconds, now);
      await events.emit({ action: 'mfa.enrolment.started', actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request });
      return present(owner, flow);
    },

    /** The enrolment this binding started, while it has not expired. */
    async resume(owner: MfaOwner, binding: string, flowId: string, now = new Date()): Promise<Enrolment | undefined> {
      const flow = await flows.open<Pending>(ref(owner, binding, flowId), now);
      return flow && present(owner, flow);
    },

    async confirm(
      owner: MfaOwner,
      binding: string,
      flowId: string,
      code: string,
      options: { mode: EnrolmentMode; label?: string },
      request: RequestInfo,
      now = new Date(),
    ): Promise<ConfirmOutcome> {
      const pending = await flows.open<Pending>(ref(owner, binding, flowId), now);
      if (!pending) return { ok: false, reason: 'expired' };
      const step = matchTotpStep(pending.payload.secret, code, now);
      if (step === null) return { ok: false, reason: 'invalid' };
      // Completing the flow is single-use: a double submit confirms one authenticator, not two.
      if (!(await flows.take<Pending>(ref(owner, binding, flowId), now))) return { ok: false, reason: 'expired' };
      const label = options.label?.trim() || DEFAULT_TOTP_LABEL;
      const added = await authenticators.addTotp(
        { accountId: owner.id, label, secretEnc: box.seal(pending.payload.secret, totpSecretContext(owner.id)), lastUsedStep: step, source: 'enrolled' },
        { onlyIfNone: options.mode === 'first' },
      );
      if (!added) return { ok: false, reason: 'already_enrolled' };
      let codes: string[] | undefined;
      if (options.mode === 'first') {
        codes = generateRecoveryCodes();
        await recoveryCodes.replace(owner.id, await hashRecoveryCodes(hasher, codes));
      }
      // The first authenticator turns MFA on; another one is a new device next to the others (its own mail).
      await events.emit(
        {
          action: options.mode === 'first' ? 'mfa.enrolled' : 'mfa.authenticator.added',
          actorAccountId: owner.id,
          tenantId: owner.tenantId,
          target: owner.id,
          ...request,
          detail: { authenticator: added.id, label, kind: 'totp', tenantName: owner.tenantName },
        },
        owner,
      );
      return { ok: true, authenticatorId: added.id, recoveryCodes: codes };
    },
  };
}

export type TotpEnrolment = ReturnType<typeof createTotpEnrolment>;
