// What the passkey steps of the login interaction share: the binding of their ceremonies (this
// interaction), the JSON answer of an options request, reading the browser's answer from the form, and
// the words and status for each refusal. The ceremonies themselves are src/domain/mfa/webauthn.ts.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { requiredAcr } from '../../domain/mfa/requirement.ts';
import { parseAuthenticationResponse, parseRegistrationResponse, type AssertionFailure, type Ceremony } from '../../domain/mfa/webauthn.ts';
import { field, type Turn } from '../turn.ts';

export const ceremonyBinding = (turn: Turn) => `interaction:${turn.uid}`;

/** Answers the browser's options request: the flow id to post back, and the options for the authenticator. */
export function answerOptions<O>(turn: Turn, ceremony: Ceremony<O>): void {
  turn.ctx.type = 'application/json';
  turn.ctx.body = ceremony;
}

export interface PostedAssertion {
  flowId: string;
  response: AuthenticationResponseJSON;
}

export const postedAssertion = (turn: Turn): PostedAssertion => ({ flowId: field(turn.ctx, 'flowId'), response: parseAuthenticationResponse(field(turn.ctx, 'response')) });
export const postedRegistration = (turn: Turn): { flowId: string; response: RegistrationResponseJSON } => ({
  flowId: field(turn.ctx, 'flowId'),
  response: parseRegistrationResponse(field(turn.ctx, 'response')),
});

/** Whether this sign-in must be phishing resistant: then only a passkey or security key will do. */
export const needsPasskey = (turn: Turn): boolean => turn.facts !== undefined && requiredAcr(turn.facts) === 'phr';

const REFUSAL = {
  expired: [400, 'The passkey request expired or was already used. Try again.'],
  unknown_credential: [401, 'This passkey is not registered with Gatehouse, or it was removed from your account. Use another way to sign in.'],
  invalid: [401, 'Your passkey could not be verified. Try again.'],
  not_verified: [401, 'Your passkey did not confirm it is you (PIN, fingerprint or face). Try again and confirm when your device asks.'],
  cloned: [401, 'This passkey was refused because a copy of it may be in use elsewhere. Use another way to sign in, then check your security settings.'],
  rate_limited: [429, 'Too many attempts from your network. Wait a few minutes and try again.'],
} as const satisfies Record<AssertionFailure['reason'], readonly [number, string]>;

/** Sets the status (and Retry-After) of a refused assertion and returns the sentence to show. */
export function refuseAssertion(turn: Turn, failure: AssertionFailure): string {
  const [status, message] = REFUSAL[failure.reason];
  turn.ctx.status = status;
  if (failure.reason === 'rate_limited') turn.ctx.set('Retry-After', String(failure.retryAfterSeconds));
  turn.deps.onSignIn?.(failure.reason === 'rate_limited' ? 'rate_limited' : 'passkey_failed');
  return message;
}
