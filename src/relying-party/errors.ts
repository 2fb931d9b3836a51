/**
 * The one error type of the relying-party kit. `code` is stable and safe to branch on or log;
 * `message` is a sentence for logs, never for end users (it may name claim values).
 */
export type RelyingPartyErrorCode =
  | 'malformed'
  | 'invalid_signature'
  | 'algorithm_not_allowed'
  | 'jwks_unavailable'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'azp_mismatch'
  | 'expired'
  | 'not_yet_valid'
  | 'invalid_iat'
  | 'missing_claim'
  | 'invalid_claim'
  | 'nonce_mismatch'
  | 'auth_time_missing'
  | 'auth_time_stale'
  | 'invalid_typ'
  | 'missing_events'
  | 'nonce_present'
  | 'missing_sub_and_sid'
  | 'replayed';

export class RelyingPartyError extends Error {
  readonly code: RelyingPartyErrorCode;

  constructor(code: RelyingPartyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RelyingPartyError';
    this.code = code;
  }
}

export function isRelyingPartyError(error: unknown): error is RelyingPartyError {
  return error instanceof RelyingPartyError;
}
