// Passkeys and security keys (WebAuthn) through @simplewebauthn/server: registration, the second factor
// after a password, and passwordless sign-in with a discoverable credential. Every ceremony is a flow
// (src/domain/flows.ts) bound to one interaction or settings session: its challenge is sealed in the
// flow, expires with it, and is taken once, so an assertion can never be replayed.
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { Repos } from '../../store/repos.ts';
import type { Authenticator } from '../../store/repositories/authenticators.ts';
import type { Flows } from '../flows.ts';
import type { PasswordHasher } from '../passwords.ts';
import type { Limit } from '../authentication.ts';
import type { RequestInfo, SecurityEvents } from '../events.ts';
import type { Factor } from '../amr.ts';
import { badRequest } from '../errors.ts';
import { clientNetwork } from '../network.ts';
import type { EnrolmentMode } from './enrolment.ts';
import { generateRecoveryCodes, hashRecoveryCodes } from './recovery-codes.ts';
import type { MfaOwner } from './service.ts';
import { signCountVerdict, webauthnKeyKind, webauthnLabel } from './webauthn-rules.ts';

/** @simplewebauthn/server and its ASN.1 stack (~230 modules) load with the first ceremony, not at start-up. */
const simplewebauthn = () => import('@simplewebauthn/server');

export interface WebauthnSettings {
  /** the issuer's host unless WEBAUTHN_RP_ID says otherwise. */
  rpId: string;
  /** the issuer's origin: the only page a ceremony may come from. */
  origin: string;
  rpName: string;
  /** how long a challenge stays valid (5 minutes). */
  ceremonySeconds: number;
  mfaPerIp: number;
  windowSeconds: number;
}

export interface Ceremony<O> {
  flowId: string;
  options: O;
}

export type RegisterOutcome =
  | { ok: true; authenticatorId: string; label: string; factor: 'hwk' | 'swk'; recoveryCodes: string[] | undefined }
  | { ok: false; reason: 'expired' | 'invalid' | 'already_enrolled' };

export type AssertionFailure = { ok: false; reason: 'expired' | 'invalid' | 'unknown_credential' | 'cloned' | 'not_verified' } | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };
export type AssertionOutcome = { ok: true; factor: 'hwk' | 'swk'; authenticatorId: string } | AssertionFailure;
export type PasskeyOutcome = { ok: true; accountId: string; factor: Extract<Factor, 'passkey_hwk' | 'passkey_swk'>; authenticatorId: string } | AssertionFailure;

interface Pending {
  challenge: string;
}

/** A passwordless ceremony starts before anyone is known: its flow belongs to no account. */
const NO_ACCOUNT = 'passwordless';

// The browser's answers arrive as JSON in a form field; their shape is checked here, their content by the library.
const b64url = z.string().regex(/^[A-Za-z0-9_-]*$/).max(16_384);
const registrationSchema = z.object({
  id: b64url.min(1),
  rawId: b64url.min(1),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: z.array(z.enum(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'])).optional(),
  }).loose(),
  clientExtensionResults: z.object({}).loose(),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
}).loose();
const authenticationSchema = z.object({
  id: b64url.min(1),
  rawId: b64url.min(1),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional(),
  }).loose(),
  clientExtensionResults: z.object({}).loose(),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
}).loose();

function parseJson<T>(text: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest(`The ${what} from your browser is missing or not valid. Try again.`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(`The ${what} from your browser is not valid. Try again.`);
  return parsed.data;
}

export const parseRegistrationResponse = (text: string): RegistrationResponseJSON =>
  parseJson(text, registrationSchema, 'passkey registration') as RegistrationResponseJSON;
export const parseAuthenticationResponse = (text: string): AuthenticationResponseJSON =>
  parseJson(text, authenticationSchema, 'passkey response') as AuthenticationResponseJSON;

/** The WebAuthn user handle of an account: its id's 16 bytes, nothing personal (WebAuthn §14.6.1). */
const userHandleOf = (accountId: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(accountId.replace(/-/g, ''), 'hex'));
const userHandleText = (accountId: string) => Buffer.from(userHandleOf(accountId)).toString('base64url');

export function createWebauthn(deps: {
  flows: Flows;
  authenticators: Repos['authenticators'];
  recoveryCodes: Repos['recoveryCodes'];
  events: SecurityEvents;
  hasher: PasswordHasher;
  limit: Limit;
  settings: WebauthnSettings;
}) {
  const { flows, authenticators, recoveryCodes, events, hasher, limit, settings } = deps;
  const ref = (kind: 'webauthn_registration' | 'webauthn_authentication', accountId: string, binding: string, id: string) => ({ id, kind, accountId, binding });
  const credentialsOf = async (accountId: string) => (await authenticators.listForAccount(accountId)).filter((a) => a.kind === 'webauthn' && a.credentialId);

  /**
   * Checks an assertion against the credential it names: signature, challenge, origin, RP ID, then the
   * counter rule; the counter is stored with a compare-and-set, so of two uses of one counter value one fails.
   */
  async function checkAssertion(
    stored: Authenticator,
    challenge: string,
    response: AuthenticationResponseJSON,
    options: { requireUserVerification: boolean },
    request: RequestInfo & { tenantId?: string | undefined },
    now: Date,
  ): Promise<{ ok: true; factor: 'hwk' | 'swk' } | AssertionFailure> {
    const base = { actorAccountId: stored.accountId, tenantId: request.tenantId, target: stored.accountId, ip: request.ip, userAgent: request.userAgent, requestId: request.requestId };
    let info;
    try {
      const verified = await (await simplewebauthn()).verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: settings.origin,
        expectedRPID: settings.rpId,
        // The counter is checked below by Gatehouse's own rule, so the refusal can be audited.
        credential: { id: stored.credentialId ?? '', publicKey: new Uint8Array(Buffer.from(stored.publicKey ?? '', 'base64url')), counter: 0 },
        requireUserVerification: options.requireUserVerification,
      });
      if (!verified.verified) throw new Error('assertion not verified');
      info = verified.authenticationInfo;
    } catch (error) {
      await events.emit({ action: 'mfa.webauthn.check_failed', ...base, detail: { authenticator: stored.id, error: String(error) } });
      return { ok: false, reason: options.requireUserVerification && /user verification/i.test(String(error)) ? 'not_verified' : 'invalid' };
    }
    const stale = signCountVerdict(stored.signCount ?? 0, info.newCounter) === 'regressed';
    if (stale || !(await authenticators.recordWebauthnUse(stored.id, { signCount: info.newCounter, backedUp: info.credentialBackedUp }, now))) {
      await events.emit({ action: 'mfa.webauthn.sign_count_regressed', ...base, detail: { authenticator: stored.id, stored: stored.signCount, received: info.newCounter } });
      return { ok: false, reason: 'cloned' };
    }
    await events.emit({ action: 'mfa.webauthn.verified', ...base, detail: { authenticator: stored.id, userVerified: info.userVerified } });
    return { ok: true, factor: webauthnKeyKind({ backedUp: info.credentialBackedUp }) };
  }

  /** The per-network limit on assertions (as for codes): a browser cannot try credentials without end. */
  async function throttled(request: RequestInfo): Promise<AssertionFailure | undefined> {
    const perIp = await limit(`webauthn:ip:${clientNetwork(request.ip)}`, settings.mfaPerIp, settings.windowSeconds);
    return perIp.allowed ? undefined : { ok: false, reason: 'rate_limited', retryAfterSeconds: perIp.retryAfterSeconds };
  }

  return {
    /** Options for `navigator.credentials.create`: resident key and user verification preferred, attestation none. */
    async startRegistration(owner: MfaOwner, binding: string, now = new Date()): Promise<Ceremony<PublicKeyCredentialCreationOptionsJSON>> {
      const existing = await credentialsOf(owner.id);
      const options = await (await simplewebauthn()).generateRegistrationOptions({
        rpName: settings.rpName,
        rpID: settings.rpId,
        userName: owner.email,
        userID: userHandleOf(owner.id),
        userDisplayName: owner.name ? `${owner.name} (${owner.tenantName})` : `${owner.email} (${owner.tenantName})`,
        timeout: settings.ceremonySeconds * 1000,
        attestationType: 'none',
        // the same authenticator cannot be registered twice for one account
        excludeCredentials: existing.map((a) => ({ id: a.credentialId ?? '', transports: a.transports ?? [] })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      });
      const flow = await flows.start<Pending>({ kind: 'webauthn_registration', accountId: owner.id, binding }, { challenge: options.challenge }, settings.ceremonySeconds, now);
      return { flowId: flow.id, options };
    },

    async finishRegistration(
      owner: MfaOwner,
      binding: string,
      flowId: string,
      response: RegistrationResponseJSON,
      options: { mode: EnrolmentMode; label?: string | undefined },
      request: RequestInfo,
      now = new Date(),
    ): Promise<RegisterOutcome> {
      // Taken before it is checked: a challenge answers one registration attempt, right or wrong.
      const pending = await flows.take<Pending>(ref('webauthn_registration', owner.id, binding, flowId), now);
      if (!pending) return { ok: false, reason: 'expired' };
      let info;
      try {
        const verified = await (await simplewebauthn()).verifyRegistrationResponse({
          response,
          expectedChallenge: pending.payload.challenge,
          expectedOrigin: settings.origin,
          expectedRPID: settings.rpId,
          requireUserVerification: false,
        });
        if (!verified.verified) throw new Error('registration not verified');
        info = verified.registrationInfo;
      } catch (error) {
        await events.emit({ action: 'mfa.webauthn.check_failed', actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request, detail: { registration: true, error: String(error) } });
        return { ok: false, reason: 'invalid' };
      }
      const transports = info.credential.transports ?? [];
      const label = webauthnLabel({ typed: options.label, aaguid: info.aaguid, transports });
      const added = await authenticators.addWebauthn(
        {
          accountId: owner.id,
          label,
          credentialId: info.credential.id,
          publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
          signCount: info.credential.counter,
          transports,
          aaguid: info.aaguid,
          userVerified: info.userVerified,
          backedUp: info.credentialBackedUp,
        },
        { onlyIfNone: options.mode === 'first' },
      );
      if (!added) return { ok: false, reason: 'already_enrolled' };
      let codes: string[] | undefined;
      if (options.mode === 'first') {
        codes = generateRecoveryCodes();
        await recoveryCodes.replace(owner.id, await hashRecoveryCodes(hasher, codes));
      }
      const detail = { authenticator: added.id, label, kind: 'webauthn' };
      // The first authenticator turns MFA on; another one is "a new authenticator was added".
      const action = options.mode === 'first' ? 'mfa.enrolled' : 'mfa.authenticator.added';
      await events.emit({ action, actorAccountId: owner.id, tenantId: owner.tenantId, target: owner.id, ...request, detail }, owner);
      return { ok: true, authenticatorId: added.id, label, factor: webauthnKeyKind({ backedUp: info.credentialBackedUp }), recoveryCodes: codes };
    },

    /** Options for `navigator.credentials.get` with the account's credentials: the second factor after a password. */
    async startAuthentication(owner: MfaOwner, binding: string, now = new Date()): Promise<Ceremony<PublicKeyCredentialRequestOptionsJSON>> {
      const options = await (await simplewebauthn()).generateAuthenticationOptions({
        rpID: settings.rpId,
        allowCredentials: (await credentialsOf(owner.id)).map((a) => ({ id: a.credentialId ?? '', transports: a.transports ?? [] })),
        userVerification: 'preferred',
        timeout: settings.ceremonySeconds * 1000,
      });
      const flow = await flows.start<Pending>({ kind: 'webauthn_authentication', accountId: owner.id, binding }, { challenge: options.challenge }, settings.ceremonySeconds, now);
      return { flowId: flow.id, options };
    },

    async verifySecondFactor(owner: MfaOwner, binding: string, flowId: string, response: AuthenticationResponseJSON, request: RequestInfo, now = new Date()): Promise<AssertionOutcome> {
      const limited = await throttled(request);
      if (limited) return limited;
      const pending = await flows.take<Pending>(ref('webauthn_authentication', owner.id, binding, flowId), now);
      if (!pending) return { ok: false, reason: 'expired' };
      const stored = await authenticators.findByCredentialId(response.id);
      if (!stored || stored.accountId !== owner.id) return { ok: false, reason: 'unknown_credential' };
      const checked = await checkAssertion(stored, pending.payload.challenge, response, { requireUserVerification: false }, { ...request, tenantId: owner.tenantId }, now);
      return checked.ok ? { ...checked, authenticatorId: stored.id } : checked;
    },

    /** Options for a discoverable credential (no allow list): passwordless sign-in, user verification required. */
    async startPasswordless(binding: string, now = new Date()): Promise<Ceremony<PublicKeyCredentialRequestOptionsJSON>> {
      const options = await (await simplewebauthn()).generateAuthenticationOptions({ rpID: settings.rpId, userVerification: 'required', timeout: settings.ceremonySeconds * 1000 });
      const flow = await flows.start<Pending>({ kind: 'webauthn_authentication', accountId: NO_ACCOUNT, binding }, { challenge: options.challenge }, settings.ceremonySeconds, now);
      return { flowId: flow.id, options };
    },

    /**
     * The account a discoverable credential belongs to. The user handle the authenticator returns must be
     * that account's: one credential, one account, so no account chooser is needed.
     */
    async verifyPasskey(binding: string, flowId: string, response: AuthenticationResponseJSON, request: RequestInfo, now = new Date()): Promise<PasskeyOutcome> {
      const limited = await throttled(request);
      if (limited) return limited;
      const pending = await flows.take<Pending>(ref('webauthn_authentication', NO_ACCOUNT, binding, flowId), now);
      if (!pending) return { ok: false, reason: 'expired' };
      const stored = await authenticators.findByCredentialId(response.id);
      if (!stored || response.response.userHandle !== userHandleText(stored.accountId)) return { ok: false, reason: 'unknown_credential' };
      const checked = await checkAssertion(stored, pending.payload.challenge, response, { requireUserVerification: true }, request, now);
      if (!checked.ok) return checked;
      return { ok: true, accountId: stored.accountId, factor: checked.factor === 'hwk' ? 'passkey_hwk' : 'passkey_swk', authenticatorId: stored.id };
    },
  };
}

export type Webauthn = ReturnType<typeof createWebauthn>;
