/**
 * Shapes of the claims a Gatehouse ID token carries (DESIGN.md §6) and small readers for them.
 */
import type { JWTPayload } from 'jose';
import { ACR_MFA, ACR_MFA_PAPE, ACR_PHR, AMR_HWK, AMR_MFA, AMR_SWK } from './constants.ts';

export interface GatehouseTenantClaim {
  id: string;
  name: string;
}

export interface IdTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  azp?: string;
  auth_time?: number;
  acr?: string;
  amr?: string[];
  sid?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  tenant?: GatehouseTenantClaim;
}

declare const validatedBrand: unique symbol;

/**
 * Claims returned by `validateIdToken`: signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce` and
 * (when asked) `auth_time` were checked. The brand keeps unvalidated payloads (for example
 * `decodeJwt` output) out of decisions such as `decideLocalMfa` at compile time.
 */
export type ValidatedIdTokenClaims = IdTokenClaims & { readonly [validatedBrand]: true };

/** True when the `amr` claim says the user passed multi-factor authentication (RFC 8176 `mfa`). */
export function amrIncludesMfa(claims: Pick<IdTokenClaims, 'amr'>): boolean {
  return Array.isArray(claims.amr) && claims.amr.includes(AMR_MFA);
}

/**
 * True when the sign-in was phishing-resistant MFA: `amr` has `mfa` and a WebAuthn key (`hwk` or
 * `swk`). Read from `amr`, like {@link amrIncludesMfa}, so one claim decides both questions.
 */
export function amrIsPhishingResistant(claims: Pick<IdTokenClaims, 'amr'>): boolean {
  return amrIncludesMfa(claims) && Array.isArray(claims.amr) && (claims.amr.includes(AMR_HWK) || claims.amr.includes(AMR_SWK));
}

/** True when an `acr` value names Gatehouse's MFA level (or its PAPE synonym), or the phishing-resistant level that includes it. */
export function isMfaAcr(acr: string | undefined): boolean {
  return acr === ACR_MFA || acr === ACR_MFA_PAPE || acr === ACR_PHR;
}
