/**
 * The `amr`/`acr` vocabulary of Gatehouse ID tokens (DESIGN.md §6).
 * `amr` values come from RFC 8176; `acr` values are Gatehouse URNs.
 */

/** `acr` of a sign-in that included a second factor (TOTP, recovery code, trusted upstream MFA). */
export const ACR_MFA = 'urn:gatehouse:acr:mfa';

/**
 * `acr` of a phishing-resistant sign-in: MFA with a passkey or security key (WebAuthn), whose
 * credential only signs for Gatehouse's origin. It also satisfies a request for {@link ACR_MFA}.
 */
export const ACR_PHR = 'urn:gatehouse:acr:phr';

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
/** Proof of possession of a hardware-held key (a passkey or security key that stays in its device). */
export const AMR_HWK = 'hwk';
/** Proof of possession of a software-held key (a synced passkey, copied between devices). */
export const AMR_SWK = 'swk';
/** User verification by the authenticator (PIN or biometric) in a passwordless passkey sign-in. */
export const AMR_USER = 'user';
/** Federated sign-in through an upstream IdP (as Microsoft Entra uses it). */
export const AMR_FED = 'fed';

/** Event type that marks a JWT as a Back-Channel Logout token (OpenID Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Signature algorithms Gatehouse uses for ID and logout tokens (ES256 by default, RS256 per client). */
export const DEFAULT_ALGORITHMS: readonly string[] = ['ES256', 'RS256'];
