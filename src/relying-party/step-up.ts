/**
 * Step-up: ask Gatehouse for multi-factor authentication by re-requesting the sign-in with
 * `acr_values=urn:gatehouse:acr:mfa` (DESIGN.md §6). Gatehouse never downgrades silently: a session
 * that cannot meet the requested `acr` gets a TOTP step (or `login_required` with `prompt=none`).
 */
import { ACR_MFA, ACR_PHR } from './constants.ts';

export interface StepUpOptions {
  /** Ask for phishing-resistant MFA (`urn:gatehouse:acr:phr`: a passkey or security key) instead of any MFA. */
  phishingResistant?: boolean | undefined;
  /** Add `prompt=login`: re-authenticate even when the Gatehouse session is recent. */
  promptLogin?: boolean | undefined;
  /** Add `max_age`: Gatehouse re-authenticates when the session is older (seconds). */
  maxAgeSeconds?: number | undefined;
}

/** Extra authorization parameters for a step-up; merge them into your client library's request. */
export function stepUpAuthorizationParams(options: StepUpOptions = {}): Record<string, string> {
  const params: Record<string, string> = { acr_values: options.phishingResistant === true ? ACR_PHR : ACR_MFA };
  if (options.promptLogin === true) params.prompt = 'login';
  if (options.maxAgeSeconds !== undefined) {
    if (!Number.isInteger(options.maxAgeSeconds) || options.maxAgeSeconds < 0) {
      throw new RangeError('maxAgeSeconds must be a non-negative integer');
    }
    params.max_age = String(options.maxAgeSeconds);
  }
  return params;
}

export interface StepUpRequestInput extends StepUpOptions {
  /** The issuer's `authorization_endpoint` from discovery. */
  authorizationEndpoint: string | URL;
  clientId: string;
  redirectUri: string;
  /** Fresh, unguessable values bound to the user's browser session. */
  state: string;
  nonce: string;
  /** PKCE S256 challenge of a fresh code verifier. */
  codeChallenge: string;
  /** Default `openid email profile`. */
  scope?: string | undefined;
  loginHint?: string | undefined;
}

/**
 * A complete authorization-code + PKCE (S256) request URL asking for MFA. Use it when you do not build
 * authorization URLs with a client library; otherwise use {@link stepUpAuthorizationParams}.
 */
export function buildStepUpRequest(input: StepUpRequestInput): URL {
  const url = new URL(input.authorizationEndpoint);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: input.clientId,
    redirect_uri: input.redirectUri,
    scope: input.scope ?? 'openid email profile',
    state: input.state,
    nonce: input.nonce,
    code_challenge: input.codeChallenge,
    code_challenge_method: 'S256',
    ...stepUpAuthorizationParams(input),
  };
  if (input.loginHint !== undefined) params.login_hint = input.loginHint;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url;
}
