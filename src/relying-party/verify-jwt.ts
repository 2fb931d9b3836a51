/**
 * Signature and registered-claim verification shared by ID tokens and logout tokens.
 * All cryptography is jose's; this module only maps jose's errors to stable
 * {@link RelyingPartyError} codes and handles JWKS sets with several candidate keys.
 */
import { errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions, JWTVerifyResult, ProtectedHeaderParameters } from 'jose';
import { DEFAULT_ALGORITHMS } from './constants.ts';
import { RelyingPartyError } from './errors.ts';

/** A jose key resolver, e.g. `createRemoteJWKSet(new URL(jwks_uri))` or `createLocalJWKSet(jwks)`. */
export type JwksGetter = JWTVerifyGetKey;

export interface VerifySignedJwtOptions {
  issuer: string;
  audience: string;
  jwks: JwksGetter;
  algorithms?: readonly string[] | undefined;
  clockToleranceSeconds?: number | undefined;
  now?: Date | undefined;
  requiredClaims: readonly string[];
}

export interface VerifiedJwt {
  payload: JWTPayload;
  protectedHeader: ProtectedHeaderParameters;
}

export async function verifySignedJwt(token: string, options: VerifySignedJwtOptions): Promise<VerifiedJwt> {
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw new RelyingPartyError('malformed', 'token is not a compact JWS (encrypted or unsecured tokens are not accepted)');
  }
  const verifyOptions: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: [...(options.algorithms ?? DEFAULT_ALGORITHMS)],
    clockTolerance: options.clockToleranceSeconds ?? 0,
    requiredClaims: [...options.requiredClaims],
    ...(options.now ? { currentDate: options.now } : {}),
  };
  try {
    const result = await verifyWithCandidates(token, guardKeyResolution(options.jwks), verifyOptions);
    return { payload: result.payload, protectedHeader: result.protectedHeader };
  } catch (error) {
    throw toRelyingPartyError(error);
  }
}

/** Turns network or JWKS-format failures of the key resolver into `jwks_unavailable`. */
function guardKeyResolution(jwks: JwksGetter): JwksGetter {
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new RelyingPartyError('jwks_unavailable', 'could not obtain the issuer signing keys', { cause: error });
    }
  };
}

/** A key set may hold several keys matching a token without `kid`; jose then asks us to try each. */
async function verifyWithCandidates(token: string, jwks: JwksGetter, options: JWTVerifyOptions): Promise<JWTVerifyResult> {
  try {
    return await jwtVerify(token, jwks, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        if (inner instanceof errors.JWSSignatureVerificationFailed) continue;
        throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function toRelyingPartyError(error: unknown): RelyingPartyError {
  if (error instanceof RelyingPartyError) return error;
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new RelyingPartyError('invalid_signature', 'signature verification failed', { cause: error });
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new RelyingPartyError('invalid_signature', 'no key in the issuer key set matches the token header', { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new RelyingPartyError('algorithm_not_allowed', 'token "alg" is not allowed', { cause: error });
  }
  if (error instanceof errors.JWTExpired) {
    return new RelyingPartyError('expired', 'token has expired', { cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      return new RelyingPartyError('missing_claim', `missing required "${error.claim}" claim`, { cause: error });
    }
    switch (error.claim) {
      case 'iss':
        return new RelyingPartyError('issuer_mismatch', 'unexpected "iss"', { cause: error });
      case 'aud':
        return new RelyingPartyError('audience_mismatch', '"aud" does not contain this client', { cause: error });
      case 'nbf':
        return new RelyingPartyError('not_yet_valid', 'token is not yet valid ("nbf")', { cause: error });
      case 'iat':
        return new RelyingPartyError('invalid_iat', 'invalid "iat"', { cause: error });
      case 'typ':
        return new RelyingPartyError('invalid_typ', 'unexpected "typ" header', { cause: error });
      default:
        return new RelyingPartyError('invalid_claim', `invalid "${error.claim}" claim`, { cause: error });
    }
  }
  if (error instanceof errors.JOSEError || error instanceof TypeError) {
    return new RelyingPartyError('malformed', 'token could not be parsed or verified', { cause: error });
  }
  return new RelyingPartyError('malformed', 'token verification failed', { cause: error });
}

