// A signed-in user's own MFA (Security Settings of /account): status, turning MFA on, another device,
// rename, remove, new recovery codes, turning MFA off, and the emailed self-reset. The page checks
// CSRF and recent authentication; these use cases check what only the domain knows: the password and
// a current second factor where the action asks for them (a code from an authenticator app, or an
// assertion of a passkey / security key: an account with only passkeys has no code to give), and the
// account's effective MFA policy, which forbids going without MFA (`mfa_enforced`).
import type { Repos } from '../../store/repos.ts';
import type { AccountWithTenant } from '../../store/repositories/accounts.ts';
import type { Limit } from '../authentication.ts';
import { badRequest, GatehouseError } from '../errors.ts';
import type { RequestInfo, SecurityEvents } from '../events.ts';
import { admitLinkRequest, linkInvalid, type LinkRequestLimits, type LinkRequestOutcome } from '../link-requests.ts';
import type { Postbox } from '../notices.ts';
import type { OneTimeLinks } from '../one-time-links.ts';
import type { PasswordHasher } from '../passwords.ts';
import { checkCurrentPassword } from '../current-password.ts';
import type { EnrolmentMode, TotpEnrolment } from './enrolment.ts';
import type { MfaPolicySource } from './policy-source.ts';
import { generateRecoveryCodes, hashRecoveryCodes } from './recovery-codes.ts';
import type { MfaOwner, MfaService } from './service.ts';
import type { MfaReset, MfaResetResult } from './reset.ts';
import type { RememberedBrowsers } from './remembered-browsers.ts';
import { mfaEnforced, type MfaRemoval } from './removal.ts';
import type { AssertionFailure, Webauthn } from './webauthn.ts';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

export const MAX_LABEL_LENGTH = 64;

export interface AuthenticatorView {
  id: string;
  kind: 'totp' | 'webauthn';
  label: string;
  addedAt: Date;
  lastUsedAt: Date | null;
}

export interface MfaStatusView {
  active: boolean;
  since: Date | null;
  authenticators: AuthenticatorView[];
  recoveryCodesLeft: number;
  /** the account's effective policy requires MFA: it cannot be turned off, nor the last authenticator removed. */
  enforced: boolean;
}

/** The second factor that confirms a sensitive change: a current code, or a passkey's answer to a challenge of this console session. */
export type SecondFactorProof = { code: string } | { passkey: { consoleSession: string; flowId: string; response: AuthenticationResponseJSON } };

const PASSKEY_REFUSAL = {
  expired: [400, 'The passkey request expired or was already used. Try again.'],
  unknown_credential: [401, 'This passkey is not registered for your account. Use one of your own passkeys or security keys.'],
  invalid: [401, 'Your passkey could not be verified. Try again.'],
  not_verified: [401, 'Your passkey did not confirm it is you. Try again and confirm when your device asks.'],
  cloned: [401, 'This passkey was refused because a copy of it may be in use elsewhere.'],
  rate_limited: [429, 'Too many attempts from your network. Wait a few minutes and try again.'],
} as const satisfies Record<AssertionFailure['reason'], readonly [number, string]>;


const ownerOf = (a: AccountWithTenant): MfaOwner => ({ id: a.id, email: a.email, name: a.name, tenantId: a.tenant.id, tenantName: a.tenant.name });

/** A pending setup in Security Settings is bound to the console session that started it. */
const bindingOf = (consoleSession: string) => `account-console:${consoleSession}`;

export function createMfaSelfService(deps: {
  authenticators: Repos['authenticators'];
  recoveryCodes: Repos['recoveryCodes'];
  accounts: Pick<Repos['accounts'], 'findById'>;
  mfa: MfaService;
  enrolment: TotpEnrolment;
  policy: MfaPolicySource;
  hasher: PasswordHasher;
  events: SecurityEvents;
  links: OneTimeLinks;
  postbox: Postbox;
  limit: Limit;
  limits: LinkRequestLimits;
  defer: (label: string, work: () => Promise<void>) => void;
  /** the shared reset (src/domain/mfa/reset.ts): the emailed link runs the same reset as an administrator. */
  reset: MfaReset;
  /** turning MFA off and removing an authenticator, under the account's policy (src/domain/mfa/removal.ts). */
  removal: MfaRemoval;
  rememberedBrowsers: Pick<RememberedBrowsers, 'forgetAll'>;
  /** passkeys and security keys: the second factor of an account that has no authenticator app. */
  webauthn: Pick<Webauthn, 'startAuthentication' | 'verifySecondFactor'>;
}) {
  const { authenticators, recoveryCodes, events, hasher } = deps;
  const who = (account: AccountWithTenant, request: RequestInfo) => ({ actorAccountId: account.id, tenantId: account.tenant.id, target: account.id, ...request });

  const enforced = async (account: AccountWithTenant) => !(await deps.removal.mayDisable(account));

  /** The password, counted against the console's per-account limit (src/domain/current-password.ts). */
  const checkPassword = (account: AccountWithTenant, password: string) => checkCurrentPassword(deps, account, password);

  /** A current code from one of the account's authenticators (replay and lockout rules of sign-in apply). */
  async function checkCode(account: AccountWithTenant, code: string, request: RequestInfo): Promise<void> {
    const outcome = await deps.mfa.verifyTotp(ownerOf(account), code, request);
    if (outcome.ok) return;
    if (outcome.reason === 'invalid') throw new GatehouseError('invalid_code', 401, 'That code is not valid. Enter the current 6-digit code from your authenticator app.');
    if (outcome.reason === 'locked') throw new GatehouseError('mfa_locked', 429, 'Too many wrong codes: the code step is locked for a while. Try again later.');
    throw new GatehouseError('too_many_requests', 429, 'Too many attempts from your network. Wait a few minutes and try again.');
  }

  /** A current code from the authenticator app, or the answer of one of the account's passkeys. */
  async function checkSecondFactor(account: AccountWithTenant, proof: SecondFactorProof, request: RequestInfo): Promise<void> {
    if ('code' in proof) {
      const kinds = new Set((await authenticators.listForAccount(account.id)).map((a) => a.kind));
      // a code is never checked against an account without an authenticator app (it would only count as a wrong code)
      if (!kinds.has('totp')) throw new GatehouseError('passkey_required', 400, 'Your account has no authenticator app: confirm with your passkey or security key.');
      return checkCode(account, proof.code, request);
    }
    const { consoleSession, flowId, response } = proof.passkey;
    const outcome = await deps.webauthn.verifySecondFactor(ownerOf(account), bindingOf(consoleSession), flowId, response, request);
    if (outcome.ok) return;
    const [status, message] = PASSKEY_REFUSAL[outcome.reason];
    throw new GatehouseError(`passkey_${outcome.reason}`, status, message);
  }

  async function newRecoveryCodes(account: AccountWithTenant, request: RequestInfo): Promise<string[]> {
    const codes = generateRecoveryCodes();
    await recoveryCodes.replace(account.id, await hashRecoveryCodes(hasher, codes));
    await events.emit({ action: 'mfa.recovery_codes.regenerated', ...who(account, request), detail: { tenantName: account.tenant.name } }, account);
    return codes;
  }

  return {
    async status(account: AccountWithTenant): Promise<MfaStatusView> {
      const list = await authenticators.listForAccount(account.id);
      return {
        active: list.length > 0,
        since: list[0]?.createdAt ?? null,
        authenticators: list.map((a) => ({ id: a.id, kind: a.kind, label: a.label, addedAt: a.createdAt, lastUsedAt: a.lastUsedAt })),
        recoveryCodesLeft: list.length > 0 ? await recoveryCodes.countUnused(account.id) : 0,
        enforced: await enforced(account),
      };
    },

    /** A new secret (QR + setup key) for this console session: MFA's first authenticator or another device. */
    startSetup(account: AccountWithTenant, consoleSession: string, request: RequestInfo) {
      return deps.enrolment.start(ownerOf(account), bindingOf(consoleSession), request);
    },

    resumeSetup(account: AccountWithTenant, consoleSession: string, flowId: string) {
      return deps.enrolment.resume(ownerOf(account), bindingOf(consoleSession), flowId);
    },

    /**
     * Confirms the setup with a code from the new device. Without MFA it is the first authenticator
     * and recovery codes come with it (shown once); otherwise it is added next to the others.
     */
    async confirmSetup(account: AccountWithTenant, consoleSession: string, flowId: string, code: string, label: string, request: RequestInfo) {
      const cleanLabel = label.trim().slice(0, MAX_LABEL_LENGTH);
      const mode: EnrolmentMode = (await authenticators.countForAccount(account.id)) > 0 ? 'additional' : 'first';
      return deps.enrolment.confirm(ownerOf(account), bindingOf(consoleSession), flowId, code, { mode, label: cleanLabel }, request);
    },

    async rename(account: AccountWithTenant, id: string, label: string, request: RequestInfo): Promise<void> {
      const clean = label.trim();
      if (!clean || clean.length > MAX_LABEL_LENGTH) throw badRequest(`Enter a name of 1 to ${MAX_LABEL_LENGTH} characters.`, 'invalid_label');
      if (!(await authenticators.rename(account.id, id, clean))) throw new GatehouseError('not_found', 404, 'That authenticator is not on your account.');
      await events.emit({ action: 'mfa.authenticator.renamed', ...who(account, request), detail: { authenticator: id, label: clean } });
    },

    /** Removes one authenticator; the last one only when MFA is not enforced (its recovery codes go with it). */
    remove(account: AccountWithTenant, id: string, request: RequestInfo): Promise<{ remaining: number }> {
      return deps.removal.removeAuthenticator(account, id, request);
    },

    /** A new set of recovery codes; the old ones stop working at once. */
    async regenerateRecoveryCodes(account: AccountWithTenant, request: RequestInfo): Promise<string[]> {
      if ((await authenticators.countForAccount(account.id)) === 0) throw new GatehouseError('mfa_inactive', 409, 'Recovery codes come with multi-factor authentication: turn it on first.');
      return newRecoveryCodes(account, request);
    },

    /** The challenge a passkey answers to confirm a sensitive change in this console session. */
    startPasskeyConfirmation(account: AccountWithTenant, consoleSession: string) {
      return deps.webauthn.startAuthentication(ownerOf(account), bindingOf(consoleSession));
    },

    /**
     * Turns MFA off: the password and a current second factor (a code, or a passkey for an account
     * that has one), and never when the account's policy enforces MFA.
     */
    async disable(account: AccountWithTenant, input: { password: string; proof: SecondFactorProof }, request: RequestInfo): Promise<void> {
      if (await enforced(account)) throw mfaEnforced();
      if ((await authenticators.countForAccount(account.id)) === 0) throw new GatehouseError('mfa_inactive', 409, 'Multi-factor authentication is already off.');
      await checkPassword(account, input.password);
      await checkSecondFactor(account, input.proof, request);
      await deps.removal.disable(account, request);
      await deps.rememberedBrowsers.forgetAll({ id: account.id, tenantId: account.tenant.id }, 'mfa_disabled', request);
    },

    /**
     * "Reset MFA by email": the password here, then a single-use link to the account's address is the
     * second proof. Used from Security Settings and from "Lost your device?" at sign-in (where the
     * password was just typed: `passwordChecked`). The answer never depends on the mail.
     */
    async requestReset(account: AccountWithTenant, input: { password: string } | { passwordChecked: true }, request: RequestInfo): Promise<LinkRequestOutcome> {
      if ('password' in input) await checkPassword(account, input.password);
      const admitted = await admitLinkRequest(deps.limit, deps.limits, 'mfa-reset', account.email.toLowerCase(), request);
      if (!admitted.ok) {
        await events.emit({ action: 'auth.rate_limited', ...request, detail: { scope: 'mfa_reset' } });
        return admitted;
      }
      await events.emit({ action: 'mfa.reset_requested', ...who(account, request), detail: { tenantName: account.tenant.name } });
      deps.defer('mfa reset link', async () => {
        const link = await deps.links.issue('mfa_reset', { accountId: account.id, email: account.email });
        await deps.postbox.send('mfa.reset_link', { email: account.email, name: account.name }, { link: link.url, expiresAt: link.expiresAt, tenantName: account.tenant.name });
      });
      return admitted;
    },

    /** Whether a reset link is usable now (the page it opens); spends nothing. */
    async peekReset(token: string): Promise<AccountWithTenant> {
      const grant = await deps.links.peek('mfa_reset', token);
      const account = grant?.accountId ? await deps.accounts.findById(grant.accountId) : undefined;
      if (!account || account.status !== 'active') throw linkInvalid();
      return account;
    },

    /** Spends the link and resets MFA: authenticators, recovery codes, lockout, sessions. */
    async confirmReset(token: string, request: RequestInfo): Promise<{ account: AccountWithTenant; result: MfaResetResult }> {
      const grant = await deps.links.consume('mfa_reset', token);
      const account = grant?.accountId ? await deps.accounts.findById(grant.accountId) : undefined;
      if (!account || account.status !== 'active') {
        await events.emit({ action: 'mfa.reset_link.refused', ...request });
        throw linkInvalid();
      }
      const result = await deps.reset.reset({ account, reason: 'self', actor: { actorAccountId: account.id }, request });
      await deps.rememberedBrowsers.forgetAll({ id: account.id, tenantId: account.tenant.id }, 'mfa_reset', request);
      return { account, result };
    },

    /** A link that was refused (expired, used, replaced, garbage) is recorded, without the token. */
    async recordRefused(request: RequestInfo): Promise<void> {
      await events.emit({ action: 'mfa.reset_link.refused', ...request });
    },
  };
}

export type MfaSelfService = ReturnType<typeof createMfaSelfService>;
