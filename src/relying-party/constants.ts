/**
 * The `amr`/`acr` vocabulary of Gatehouse ID tokens (DESIGN.md §6).
 * `amr` values come from RFC 8176; `acr` values are Gatehouse URNs.
 */

/** `acr` of a sign-in that included a second factor (TOTP, recovery code, trusted upstream MFA). */
export const ACR_MFA = 'urn:gatehouse:acr:mfa';

/** `acr` of a single-factor sign-in (password, or an upstream IdP that did not do MFA). */
export const ACR_1FA = 'urn:gatehouse:acr:1fa';

/**
 * PAPE multi-factor policy URI. Gatehouse accepts it in `acr_values` as a synonym of {@link ACR_MFA};
 * ID tokens always carry the Gatehouse URN.
 */
export const ACR_MFA_PAPE = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

/** RFC 8176 `amr` value meaning "multiple-factor authentication". */
export const AMR_MFA = 'mfa';

/** RFC 8176 `amr` values Gatehouse emits, for reference. */
export const AMR_PWD = 'pwd';
export const AMR_OTP = 'otp';
/** Federated sign-in through an upstream IdP (as Microsoft Entra uses it). */
export const AMR_FED = 'fed';

/** Event type that marks a JWT as a Back-Channel Logout token (OpenID Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Signature algorithms Gatehouse uses for ID and logout tokens (ES256 by default, RS256 per client). */
export const DEFAULT_ALGORITHMS: readonly string[] = ['ES256', 'RS256'];
