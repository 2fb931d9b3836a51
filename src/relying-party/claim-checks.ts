/** Claim checks shared by ID tokens and logout tokens (OIDC Core §3.1.3.7, Back-Channel Logout §2.6). */
import type { JWTPayload } from 'jose';
import { RelyingPartyError } from './errors.ts';

export function checkIssuedAt(payload: JWTPayload, now: number, toleranceSeconds: number): void {
  if (typeof payload.iat !== 'number' || payload.iat > now + toleranceSeconds) {
    throw new RelyingPartyError('invalid_iat', '"iat" is missing or in the future');
  }
}

/** Several audiences need `azp`; any `azp` present must be this client (OIDC Core §3.1.3.7 items 4–5). */
export function checkAuthorizedParty(payload: JWTPayload, clientId: string): void {
  const multipleAudiences = Array.isArray(payload.aud) && payload.aud.length > 1;
  if (payload.azp === undefined && !multipleAudiences) return;
  if (payload.azp !== clientId) {
    throw new RelyingPartyError('azp_mismatch', multipleAudiences
      ? '"aud" has several audiences and "azp" is not this client'
      : '"azp" is not this client');
  }
}
