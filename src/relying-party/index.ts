/**
 * `gatehouse/relying-party`: what an app signing users in through Gatehouse needs on top of its
 * OpenID Connect client — ID token and logout token validation, the decision whether the app still
 * asks for its own second factor (`decideLocalMfa`), and step-up requests.
 */
export { ACR_1FA, ACR_MFA, ACR_MFA_PAPE, ACR_PHR, AMR_FED, AMR_HWK, AMR_MFA, AMR_OTP, AMR_PWD, AMR_SWK, AMR_USER, BACKCHANNEL_LOGOUT_EVENT, DEFAULT_ALGORITHMS } from './constants.ts';
export { RelyingPartyError, isRelyingPartyError } from './errors.ts';
export type { RelyingPartyErrorCode } from './errors.ts';
export { amrIncludesMfa, amrIsPhishingResistant, isMfaAcr } from './claims.ts';
export type { GatehouseTenantClaim, IdTokenClaims, ValidatedIdTokenClaims } from './claims.ts';
export { validateIdToken } from './id-token.ts';
export type { ValidateIdTokenOptions } from './id-token.ts';
export { decideLocalMfa } from './local-mfa-decision.ts';
export type { DecideLocalMfaInput, LocalMfaDecision, LocalMfaReason, SignInPath } from './local-mfa-decision.ts';
export { buildStepUpRequest, stepUpAuthorizationParams } from './step-up.ts';
export type { StepUpOptions, StepUpRequestInput } from './step-up.ts';
export { DEFAULT_LOGOUT_TOKEN_MAX_AGE_SECONDS, validateLogoutToken } from './logout-token.ts';
export { createMemoryReplayStore } from './replay-store.ts';
export type { ReplayStore } from './replay-store.ts';
export type { LogoutTokenClaims, ValidateLogoutTokenOptions } from './logout-token.ts';
export type { JwksGetter } from './verify-jwt.ts';
